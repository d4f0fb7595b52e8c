#!/usr/bin/env bash
# kpi_asof.sh: timings of the as-of KPIs (retention.*, receivables.*) on a
# loaded demo group (outside CI). Serves the data dir with the real
# `fourscore serve` and prints, each call cold (every KPI cache dropped just
# before it, the buffer pool already warm):
#   - each retention and receivables KPI by store, last 12 months
#   - all of them by store in one call
#   - retention.base, retention.churn_y1, retention.first_service_rate,
#     receivables.open and receivables.overdue by month over 24 months
#   - the overview's nine headline KPIs by month over 36 months
#
# usage: tests/bench/kpi_asof.sh --data DIR [--bin build/fourscore] [--repeat N]
#   DIR holds a group loaded with `fourscore demo --data-dir DIR` (minutes).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
bin="$here/build/fourscore"
data=
repeat=3
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "kpi_asof.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
for tool in curl mariadb python3; do
    command -v $tool >/dev/null || { echo "kpi_asof.sh: $tool is needed" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "kpi_asof.sh: $bin is not built" >&2; exit 2; }
[ -n "$data" ] && [ -d "$data" ] || { echo "kpi_asof.sh: --data DIR (a loaded demo data dir) is needed" >&2; exit 2; }

work=$(mktemp -d /tmp/fs-asof-bench-XXXXXX)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- the server ---
. "$here/tests/bench/lib.sh"
bench_serve kpi_asof.sh

# --- periods ---
end=$(sql -e "SELECT MAX(day) FROM rollup_ro_day")
from12=$(sql -e "SELECT DATE_ADD(LAST_DAY(DATE_SUB('$end', INTERVAL 12 MONTH)), INTERVAL 1 DAY)")
from24=$(sql -e "SELECT DATE_ADD(LAST_DAY(DATE_SUB('$end', INTERVAL 24 MONTH)), INTERVAL 1 DAY)")
from36=$(sql -e "SELECT DATE_ADD(LAST_DAY(DATE_SUB('$end', INTERVAL 36 MONTH)), INTERVAL 1 DAY)")
ids=$(curl -s -b "$cookie" "$url/api/v1/kpis" | python3 -c '
import json, sys
print(" ".join(k["id"] for k in json.load(sys.stdin)["kpis"]
               if k["id"].split(".")[0] in ("retention", "receivables")))')
headline=service.ro_count,service.revenue,service.revenue_per_ro,labour.share,parts.gross_margin,insurance.renewal_rate,receivables.open,retention.lost,csi.score

timed_once() {   # seconds of one cold GET, failing on a non-200
    local out
    invalidate
    out=$(curl -s -o "$work/body" -w '%{http_code} %{time_total}' -b "$cookie" "$1")
    [ "${out% *}" = 200 ] || { echo "kpi_asof.sh: $1 -> ${out% *}: $(head -c 300 "$work/body")" >&2; exit 1; }
    echo "${out#* }"
}
cold_ms() {      # the median of $repeat cold calls, in ms
    local times=()
    for _ in $(seq 1 "$repeat"); do times+=("$(timed_once "$1")"); done
    python3 -c "import statistics, sys; print(round(statistics.median(map(float, sys.argv[1:])) * 1000, 1))" "${times[@]}"
}
row() { printf '%-62s %10s\n' "$1" "$2"; }

# the first call warms the buffer pool
timed_once "$url/api/v1/kpi?ids=$(echo $ids | tr ' ' ,)&from=$from12&to=$end&by=store" >/dev/null

printf '\nas-of KPIs, %s to %s, cold, median of %s (ms)\n\n' "$from12" "$end" "$repeat"
for id in $ids; do
    row "$id by store, 12 months" "$(cold_ms "$url/api/v1/kpi?ids=$id&from=$from12&to=$end&by=store")"
done
row "all $(echo $ids | wc -w) as-of KPIs by store, one call" \
    "$(cold_ms "$url/api/v1/kpi?ids=$(echo $ids | tr ' ' ,)&from=$from12&to=$end&by=store")"
for id in retention.base retention.churn_y1 retention.first_service_rate receivables.open receivables.overdue; do
    row "$id by month, 24 months" "$(cold_ms "$url/api/v1/kpi?ids=$id&from=$from24&to=$end&by=month")"
done
row "9 headline KPIs by month, 36 months" "$(cold_ms "$url/api/v1/kpi?ids=$headline&from=$from36&to=$end&by=month")"
