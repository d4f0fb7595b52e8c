#!/usr/bin/env bash
# daily.sh: what every page load of the daily report asks for (outside CI).
# On a demo group (`fourscore demo --stores 200 --years 3`; BENCH_STORES and
# BENCH_YEARS, or --stores and --years, for a quick run on a small group),
# served by the real `fourscore serve`, measures and prints a table, each
# time the median of several runs, each ratio the median of the ratios of
# runs taken side by side:
#   1. GET /api/v1/freshness (every store, as the executive sees it), next to
#      the same rows read by plain SQL in the mariadb client     target <= 20 ms
#   2. a daily-report batch (month to date and the last full month by store,
#      the 12 months by month, the group: the 13 budget KPIs) with
#      "targets": true on every query / the same batch without, cold (cache
#      dropped before each call) and warm                        target <= 1.1x
#   3. GET /api/v1/benchmarks of the nine headline KPIs for the last full
#      month, cold / GET /api/v1/kpi of the same KPIs by store, cold
#                                                                target <= 1.5x
#
# usage: tests/bench/daily.sh [--bin build/fourscore] [--stores 200] [--years 3] [--runs 15] [--keep]
# FOURSCORE_BENCH_DATA=DIR reuses a data dir (the demo load is slow: minutes).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
bin="$here/build/fourscore"
stores=${BENCH_STORES:-200}
years=${BENCH_YEARS:-3}
runs=15
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin=$2; shift 2 ;;
        --stores) stores=$2; shift 2 ;;
        --years) years=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "daily.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
for tool in curl mariadb python3; do
    command -v $tool >/dev/null || { echo "daily.sh: $tool is needed" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "daily.sh: $bin is not built" >&2; exit 2; }

data=${FOURSCORE_BENCH_DATA:-$(mktemp -d /tmp/fs-daily-bench-XXXXXX)}
work=$(mktemp -d /tmp/fs-daily-bench-work-XXXXXX)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    if [ $keep = 0 ]; then rm -rf "$work"; else echo "kept: $work (logs, bodies) and $data" >&2; fi
    if [ $keep = 0 ] && [ -z "${FOURSCORE_BENCH_DATA:-}" ]; then rm -rf "$data"; fi
}
trap cleanup EXIT

# --- data ---
if [ ! -e "$data/.bench-loaded" ]; then
    echo "loading the demo group: $stores stores, $years years (this takes a while) ..." >&2
    "$bin" demo --stores "$stores" --years "$years" --data-dir "$data" >&2
    touch "$data/.bench-loaded"
fi

# --- the server ---
. "$here/tests/bench/lib.sh"
bench_serve daily.sh

# --- the periods: the data's last day, its month to date, the last full month, 12 months ---
end=$(sql -e "SELECT MAX(through_on) FROM freshness_through")
read -r mtd_from last_from last_to from12 < <(python3 -c "
import datetime as d
e = d.date.fromisoformat('$end')
first = e.replace(day=1)
nxt = (e + d.timedelta(days=1))
if nxt.day == 1:                       # the data ends on a month end: that month is the last full one
    last_to, last_from = e, first
else:
    last_to = first - d.timedelta(days=1)
    last_from = last_to.replace(day=1)
y, m = last_to.year, last_to.month - 11
while m < 1: y, m = y - 1, m + 12
print(first, last_from, last_to, d.date(y, m, 1))")
budget='"service.ro_count","service.revenue","service.gross_profit","service.mech_ro_count","service.body_ro_count","labour.revenue","labour.sold_hours","parts.revenue","parts.accessory_revenue","insurance.premium","insurance.accident_revenue","sales.units","sales.revenue"'
headline=service.revenue,service.ro_count,service.revenue_per_ro,labour.share,parts.gross_margin,receivables.over_90_share,insurance.renewal_rate,retention.churn_y1,csi.score

batch() {    # the daily report's batch; $1: "true" (with targets) or "false"
    local t=$1
    cat <<EOF
[{"ids": [$budget], "from": "$mtd_from", "to": "$end", "by": "store", "targets": $t},
 {"ids": [$budget], "from": "$mtd_from", "to": "$end", "by": "group", "targets": $t},
 {"ids": [$budget], "from": "$last_from", "to": "$last_to", "by": "store", "targets": $t},
 {"ids": [$budget], "from": "$last_from", "to": "$last_to", "by": "region", "targets": $t},
 {"ids": ["service.ro_count", "service.revenue"], "from": "$from12", "to": "$last_to", "by": "month", "targets": $t}]
EOF
}
batch true >"$work/with.json"
batch false >"$work/without.json"

timed() {        # seconds of one request, failing on a non-200: timed URL [BODYFILE]
    local out
    if [ $# -gt 1 ]; then
        out=$(curl -s -o "$work/body" -w '%{http_code} %{time_total}' -b "$cookie" -H "origin: $url" \
            -H 'content-type: application/json' --data-binary "@$2" "$1")
    else
        out=$(curl -s -o "$work/body" -w '%{http_code} %{time_total}' -b "$cookie" "$1")
    fi
    [ "${out% *}" = 200 ] || { echo "daily.sh: $1 -> ${out% *}: $(head -c 300 "$work/body")" >&2; exit 1; }
    echo "${out#* }"
}
median_ms() { python3 -c "import statistics, sys; print(round(statistics.median(float(x) for x in sys.argv[1:]) * 1000, 1))" "$@"; }
# the median of the ratios of the runs taken side by side (a busy machine drifts less within a pair):
# pair_ratio "A1 A2 ..." "B1 B2 ..."
pair_ratio() { python3 -c "import statistics, sys; a, b = sys.argv[1].split(), sys.argv[2].split()
print(round(statistics.median(float(x) / max(float(y), 1e-4) for x, y in zip(a, b)), 2))" "$1" "$2"; }

# 1: freshness, the API and the same rows in the client
timed "$url/api/v1/freshness" >/dev/null
nstores=$(python3 -c "import json; print(len(json.load(open('$work/body'))['stores']))" )
f_api=(); f_sql=()
for _ in $(seq 1 $((runs * 4))); do
    f_api+=("$(timed "$url/api/v1/freshness")")
    t0=$(date +%s.%N)
    sql -e "SELECT s.store_code, s.name, t.through_on, f.entity, f.latest, f.imported_at FROM stores s
            LEFT JOIN freshness_through t ON t.store_code = s.store_code
            LEFT JOIN freshness f ON f.store_code = s.store_code ORDER BY s.store_code, f.entity" >/dev/null
    t1=$(date +%s.%N)
    f_sql+=("$(python3 -c "print($t1 - $t0)")")
done
fresh_ms=$(median_ms "${f_api[@]}")
fresh_sql_ms=$(median_ms "${f_sql[@]}")

# 2: the batch with and without targets, cold then warm, alternating
timed "$url/api/v1/kpi/batch" "$work/with.json" >/dev/null           # warms the buffer pool
python3 -c "
import json
a = json.load(open('$work/body'))
assert all(all(v is not None for v in r['targets'].values()) for r in a[0]['rows']), 'a store lacks a target'" ||
    { echo "daily.sh: the batch's month-to-date targets are not all there" >&2; exit 1; }
c_with=(); c_without=(); w_with=(); w_without=()
for _ in $(seq 1 "$runs"); do
    invalidate; c_without+=("$(timed "$url/api/v1/kpi/batch" "$work/without.json")")
    invalidate; c_with+=("$(timed "$url/api/v1/kpi/batch" "$work/with.json")")
done
for _ in $(seq 1 $((runs * 4))); do
    w_without+=("$(timed "$url/api/v1/kpi/batch" "$work/without.json")")
    w_with+=("$(timed "$url/api/v1/kpi/batch" "$work/with.json")")
done
cold_with=$(median_ms "${c_with[@]}"); cold_without=$(median_ms "${c_without[@]}")
warm_with=$(median_ms "${w_with[@]}"); warm_without=$(median_ms "${w_without[@]}")

# 3: benchmarks of the headline KPIs for the last full month against the same KPIs by store, cold
q_bench="$url/api/v1/benchmarks?ids=$headline&from=$last_from&to=$last_to"
q_store="$url/api/v1/kpi?ids=$headline&from=$last_from&to=$last_to&by=store"
b=(); s=()
for _ in $(seq 1 "$runs"); do
    invalidate; s+=("$(timed "$q_store")")
    invalidate; b+=("$(timed "$q_bench")")
done
bench_ms=$(median_ms "${b[@]}"); by_store_ms=$(median_ms "${s[@]}")

verdict() { python3 -c "print('ok' if $1 else 'SLOW')"; }
r_cold=$(pair_ratio "${c_with[*]}" "${c_without[*]}"); r_warm=$(pair_ratio "${w_with[*]}" "${w_without[*]}")
r_bench=$(pair_ratio "${b[*]}" "${s[*]}"); r_fresh=$(pair_ratio "${f_api[*]}" "${f_sql[*]}")

printf '\ndaily report benchmark: %s stores, %s years, data to %s (month to date from %s, last full month %s..%s), median of %s runs\n\n' \
    "$stores" "$years" "$end" "$mtd_from" "$last_from" "$last_to" "$runs"
printf '%-46s %10s %10s %8s %8s %6s\n' "measure" "Fourscore" "reference" "ratio" "target" ""
printf '%-46s %10s %10s %8s %8s %6s\n' "freshness, $nstores stores (ms) / plain SQL" "$fresh_ms" "$fresh_sql_ms" "$r_fresh" "20 ms" \
    "$(verdict "$fresh_ms <= 20")"
printf '%-46s %10s %10s %8s %8s %6s\n' "batch with targets / without, cold (ms)" "$cold_with" "$cold_without" "$r_cold" "1.1" \
    "$(verdict "$r_cold <= 1.1")"
printf '%-46s %10s %10s %8s %8s %6s\n' "batch with targets / without, warm (ms)" "$warm_with" "$warm_without" "$r_warm" "1.1" \
    "$(verdict "$r_warm <= 1.1")"
printf '%-46s %10s %10s %8s %8s %6s\n' "benchmarks, 9 headline KPIs / by store, cold (ms)" "$bench_ms" "$by_store_ms" "$r_bench" "1.5" \
    "$(verdict "$r_bench <= 1.5")"
