#!/usr/bin/env bash
# kpi.sh: KPI engine benchmark (outside CI). On a demo group of 200 stores
# over 3 years (`fourscore demo --stores 200 --years 3`), served by the real
# `fourscore serve`, measures and prints a table:
#   1. every catalogue KPI by store for the last 12 months, one call, cold
#      (cache just invalidated)                                  target <= 500 ms
#   2. the same call warm, 50 concurrent clients (wrk), p99       target <= 20 ms
#      (sent as a browser sends it, with Accept-Encoding: gzip; also
#      shown without, the whole JSON each time)
#   3. nine headline KPIs by month over 36 months, cold           target <= 300 ms
#   4. cold API time of (1) / the same SQL statements the plugins ran for
#      it (FOURSCORE_KPI_TRACE), replayed one after the other in the
#      mariadb client                                            target <= 1.3x
#   5. the group overview's one batch (its 7 queries for the last full
#      month), warm, 50 clients POSTing it with gzip (wrk), p99  target <= 10 ms
#
# usage: tests/bench/kpi.sh [--bin build/fourscore] [--stores 200] [--years 3] [--keep] [--profile]
# --profile also times each KPI's statements of (1) alone in the client, slowest first.
# FOURSCORE_BENCH_DATA=DIR reuses a data dir (the demo load is slow: minutes).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
bin="$here/build/fourscore"
stores=200
years=3
keep=0
profile=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin=$2; shift 2 ;;
        --stores) stores=$2; shift 2 ;;
        --years) years=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --profile) profile=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "kpi.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
for tool in curl wrk mariadb python3; do
    command -v $tool >/dev/null || { echo "kpi.sh: $tool is needed" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "kpi.sh: $bin is not built" >&2; exit 2; }

data=${FOURSCORE_BENCH_DATA:-$(mktemp -d /tmp/fs-kpi-bench-XXXXXX)}
work=$(mktemp -d /tmp/fs-kpi-bench-work-XXXXXX)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    if [ $keep = 0 ]; then rm -rf "$work"; else echo "kept: $work (logs, captured SQL) and $data" >&2; fi
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
bench_serve kpi.sh FOURSCORE_KPI_TRACE="$work/trace.sql"

# --- the queries ---
end=$(sql -e "SELECT MAX(day) FROM rollup_ro_day")
from12=$(sql -e "SELECT DATE_ADD(LAST_DAY(DATE_SUB('$end', INTERVAL 12 MONTH)), INTERVAL 1 DAY)")
from36=$(sql -e "SELECT DATE_ADD(LAST_DAY(DATE_SUB('$end', INTERVAL 36 MONTH)), INTERVAL 1 DAY)")
ids=$(curl -s -b "$cookie" "$url/api/v1/kpis" | python3 -c '
import json, sys
print(",".join(k["id"] for k in json.load(sys.stdin)["kpis"] if "store" in k["by"]))')
nids=$(echo "$ids" | tr ',' '\n' | wc -l)
headline=service.ro_count,service.revenue,service.revenue_per_ro,labour.share,parts.gross_margin,insurance.renewal_rate,receivables.open,retention.lost,csi.score
q_all="$url/api/v1/kpi?ids=$ids&from=$from12&to=$end&by=store"
q_month="$url/api/v1/kpi?ids=$headline&from=$from36&to=$end&by=month"

timed() {        # seconds of one GET, failing on a non-200
    local out
    out=$(curl -s -o "$work/body" -w '%{http_code} %{time_total}' -b "$cookie" "$1")
    [ "${out% *}" = 200 ] || { echo "kpi.sh: $1 -> ${out% *}: $(head -c 300 "$work/body")" >&2; exit 1; }
    echo "${out#* }"
}
ms() { python3 -c "print(round($1 * 1000, 1))"; }

# 1 and 4: cold, with the statements traced for the replay
invalidate
timed "$q_all" >/dev/null          # the first call also warms the buffer pool
invalidate
: >"$work/trace.sql"
cold_all=$(timed "$q_all")
cp "$work/trace.sql" "$work/replay.sql"
cold_all_ms=$(ms "$cold_all")
nq=$(wc -l <"$work/replay.sql")
t0=$(date +%s.%N)
{ echo "USE fourscore;"; cat "$work/replay.sql"; } | mariadb --no-defaults -S "$sock" -uroot -N -B >/dev/null
t1=$(date +%s.%N)
direct_ms=$(python3 -c "print(round(($t1 - $t0) * 1000, 1))")
ratio=$(python3 -c "print(round($cold_all_ms / max($direct_ms, 0.1), 2))")

# 2: warm, 50 clients, as browsers (gzip) and without compression
timed "$q_all" >/dev/null
wrk -t2 -c50 -d10s --latency -H "Cookie: $cookie" -H "Accept-Encoding: gzip" "$q_all" >"$work/wrk.txt"
wrk -t2 -c50 -d10s --latency -H "Cookie: $cookie" "$q_all" >"$work/wrk-plain.txt"
p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")
rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ { n += $NF } END { print n + 0 }' "$work/wrk.txt" "$work/wrk-plain.txt")
p99_plain=$(awk '$1 == "99%" { print $2 }' "$work/wrk-plain.txt")
rps_plain=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk-plain.txt")

# 3: nine headline KPIs by month over 36 months, cold
invalidate
cold_month_ms=$(ms "$(timed "$q_month")")

# 5: the group overview's one batch (web/js/overview.js: the last full month
# with targets, the month before, the same month a year before, 12 months by
# month and the same months a year before, by store, by region), warm, 50
# clients POSTing it with Accept-Encoding: gzip as browsers do
batch_body=$(overview_batch "$end")
printf '%s' "$batch_body" >"$work/batch.json"
batch_status=$(curl -s -o "$work/batch.out" -w '%{http_code}' -b "$cookie" -H "origin: $url" \
    -H 'content-type: application/json' --data-binary @"$work/batch.json" "$url/api/v1/kpi/batch")
[ "$batch_status" = 200 ] || { echo "kpi.sh: the overview batch -> $batch_status: $(head -c 300 "$work/batch.out")" >&2; exit 1; }
cat >"$work/batch.lua" <<LUA
wrk.method = "POST"
wrk.body = io.open("$work/batch.json"):read("a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "$url"
LUA
wrk -t2 -c50 -d10s --latency -s "$work/batch.lua" -H "Cookie: $cookie" -H "Accept-Encoding: gzip" \
    "$url/api/v1/kpi/batch" >"$work/wrk-batch.txt"
batch_p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk-batch.txt")
batch_rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk-batch.txt")
batch_non2xx=$(awk '/Non-2xx/ { n += $NF } END { print n + 0 }' "$work/wrk-batch.txt")
batch_gz=$(curl -s -o /dev/null -w '%{size_download}' -b "$cookie" -H "origin: $url" -H 'Accept-Encoding: gzip' \
    -H 'content-type: application/json' --data-binary @"$work/batch.json" "$url/api/v1/kpi/batch")
batch_plain=$(wc -c <"$work/batch.out")

verdict() { python3 -c "print('ok' if $1 else 'SLOW')"; }
to_ms() { python3 -c "
v='$1'; import re; m=re.match(r'([0-9.]+)(us|ms|s)', v)
print(round(float(m.group(1)) * {'us': 0.001, 'ms': 1, 's': 1000}[m.group(2)], 2) if m else -1)"; }
p99_ms=$(to_ms "$p99")
p99_plain_ms=$(to_ms "$p99_plain")

printf '\nKPI engine benchmark: %s stores, %s years (to %s), %s KPIs\n\n' "$stores" "$years" "$end" "$nids"
printf '%-58s %12s %10s %6s\n' "measure" "value" "target" ""
printf '%-58s %12s %10s %6s\n' "all KPIs by store, 12 months, cold (ms)" "$cold_all_ms" "500" "$(verdict "$cold_all_ms <= 500")"
printf '%-58s %12s %10s %6s\n' "same call warm, 50 clients (gzip, as browsers), p99 (ms)" "$p99_ms" "20" "$(verdict "0 <= $p99_ms <= 20")"
printf '%-58s %12s %10s %6s\n' "  warm throughput (requests/s)" "$rps" "" ""
printf '%-58s %12s %10s %6s\n' "  without Accept-Encoding: p99 (ms)" "$p99_plain_ms" "" ""
printf '%-58s %12s %10s %6s\n' "  without Accept-Encoding: throughput (requests/s)" "$rps_plain" "" ""
[ -n "$non2xx" ] && [ "$non2xx" != 0 ] && printf '%-58s %12s\n' "  non-2xx answers under load" "$non2xx"
printf '%-58s %12s %10s %6s\n' "9 headline KPIs by month, 36 months, cold (ms)" "$cold_month_ms" "300" "$(verdict "$cold_month_ms <= 300")"
batch_p99_ms=$(to_ms "$batch_p99")
printf '%-58s %12s %10s %6s\n' "the overview's batch warm, 50 clients (gzip), p99 (ms)" "$batch_p99_ms" "10" "$(verdict "0 <= $batch_p99_ms <= 10")"
printf '%-58s %12s %10s %6s\n' "  its throughput (requests/s)" "$batch_rps" "" ""
printf '%-58s %12s %10s %6s\n' "  its answer: gzip / plain (bytes)" "$batch_gz / $batch_plain" "" ""
[ "$batch_non2xx" != 0 ] && printf '%-58s %12s\n' "  non-2xx answers under load" "$batch_non2xx"
printf '%-58s %12s %10s %6s\n' "the same $nq SQL statements in the mariadb client (ms)" "$direct_ms" "" ""
printf '%-58s %12s %10s %6s\n' "cold API / direct SQL" "$ratio" "1.3" "$(verdict "$ratio <= 1.3")"

if [ $profile = 1 ]; then
    printf '\nthe statements of (1) one by one in the mariadb client, slowest KPI first\n\n'
    SOCK="$sock" python3 - "$work/replay.sql" <<'PY'
import os, re, subprocess, sys, time
per = {}
for line in open(sys.argv[1]):
    m = re.match(r'/\* (\S+) \*/', line)
    kpi = m.group(1) if m else '-'
    t0 = time.perf_counter()
    subprocess.run(['mariadb', '--no-defaults', '-S', os.environ['SOCK'], '-uroot', '-N', '-B', 'fourscore'],
                   input=line, text=True, stdout=subprocess.DEVNULL, check=True)
    per[kpi] = per.get(kpi, 0) + (time.perf_counter() - t0) * 1000
print('%-40s %10s' % ('KPI', 'ms'))
for kpi, ms in sorted(per.items(), key=lambda kv: -kv[1]):
    print('%-40s %10.1f' % (kpi, ms))
print('%-40s %10.1f' % ('total', sum(per.values())))
PY
fi
