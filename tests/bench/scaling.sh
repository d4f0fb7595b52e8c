#!/usr/bin/env bash
# scaling.sh: KPI latency of the three database setups of docs/scaling.md on
# this machine, side by side (outside CI). One demo group (`fourscore demo
# --out`, default 24 stores over 2 years ending 2025-12) is imported through
# `fourscore import` into
#   one node    a MariaDB primary (with its binary log on)
#   + replica   the same primary and a GTID replica of it; Fourscore --db-read
#   Spider      a front end and two back ends (tests/scaling/spider-setup.sh)
# and `fourscore serve` on each answers:
#   import      the whole demo set (wall time)
#   cold        a head-office dashboard (DASHBOARD below: 12 KPIs) by store over
#               the last 12 months, cache dropped first (data_generation
#               bumped), median of 5 (ms)
#   warm        the same call answered from the KPI cache, wrk 8 connections
#               5 s: requests/s and p99 (ms)
#   rebuild     `fourscore rollup --rebuild`: every rollup recomputed from the
#               fact tables (the one job that reads all the sharded rows; the
#               KPI engine reads the rollups) (ms)
# with each figure's ratio to one node.
#
# usage: tests/bench/scaling.sh [--bin build/fourscore] [--stores 24] [--years 2] [--keep]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin="$here/build/fourscore"
stores=24
years=2
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --stores) stores=$2; shift 2 ;;
    --years) years=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scaling.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for tool in curl wrk mariadb node; do
  command -v $tool >/dev/null || { echo "scaling.sh: $tool is needed" >&2; exit 2; }
done
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[ -x "$bin" ] || { echo "scaling.sh: $bin is not built" >&2; exit 2; }
export FOURSCORE_BIN=$bin
export FOURSCORE_PLUGIN_DIR=${FOURSCORE_PLUGIN_DIR:-$(dirname "$bin")/plugins}
export FOURSCORE_ADMIN_PASSWORD=bench-admin-pass-1
export FOURSCORE_PWHASH_OPSLIMIT=1 FOURSCORE_PWHASH_MEMLIMIT=8388608
export SCALING_BUFFER_POOL=512M
scaling="$here/tests/scaling"
work=$(mktemp -d /tmp/fs-scaling-bench-XXXXXX)
server_pids=()
cleanup() {
  for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  "$scaling/replica-setup.sh" stop "$work/repl" 2>/dev/null || true
  "$scaling/spider-setup.sh" stop "$work/spider" 2>/dev/null || true
  if [ $keep = 0 ]; then rm -rf "$work"; else echo "kept: $work" >&2; fi
}
trap cleanup EXIT
ENTITIES=(regions stores insurers staff customers vehicle_sales repair_orders ro_labour ro_parts parts_stock
          insurance_policies invoices payments store_financials follow_up_calls csi_surveys appointments)
# a head-office dashboard: flow KPIs from the rollups, fact-table KPIs, as-of KPIs
DASHBOARD=service.ro_count,service.revenue,service.gross_profit,service.comeback_rate,labour.share,labour.tech_efficiency,parts.gross_margin,parts.stock_value,insurance.renewal_rate,receivables.over_90_share,retention.lost,csi.score
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# --- data ---
echo "demo group: $stores stores, $years years ..." >&2
"$bin" demo --stores "$stores" --years "$years" --end 2025-12 --out "$work/csv" >/dev/null

import_all() {   # import_all DB_URL -> wall ms
  local t0; t0=$(now_ms)
  for e in "${ENTITIES[@]}"; do
    "$bin" import "$e" "$work/csv/$e.csv" --db "$1" >>"$work/import.log" 2>&1 ||
      { echo "scaling.sh: import $e failed:" >&2; tail -5 "$work/import.log" >&2; exit 1; }
  done
  echo $(( $(now_ms) - t0 ))
}

# --- the setups ---
echo "primary and replica ..." >&2
read -r _ primary _ replica < <("$scaling/replica-setup.sh" start "$work/repl" 2>/dev/null | tail -1)
"$bin" migrate --db "$primary" >/dev/null 2>&1
echo "importing into the primary ..." >&2
import_primary=$(import_all "$primary")
"$scaling/replica-setup.sh" wait "$work/repl"
echo "Spider layout ..." >&2
spider=$("$scaling/spider-setup.sh" start "$work/spider" 2>/dev/null | tail -1)
echo "importing into Spider ..." >&2
import_spider=$(import_all "$spider")

start_serve() {   # start_serve NAME ARGS... -> sets url
  local name=$1; shift
  "$bin" serve --listen 127.0.0.1:0 "$@" >"$work/serve-$name.log" 2>&1 &
  server_pids+=($!)
  url=
  for _ in $(seq 1 600); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$work/serve-$name.log" | head -1 | sed 's/listening on //') || true
    [ -n "$url" ] && return
    sleep 0.1
  done
  echo "scaling.sh: serve ($name) did not start" >&2; cat "$work/serve-$name.log" >&2; exit 1
}
login() {
  curl -s -i -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$FOURSCORE_ADMIN_PASSWORD\"}" "$1/api/v1/session" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1
}

declare -A res
measure() {   # measure NAME URL BUMP_SQL_NODE_FN
  local name=$1 u=$2 bump=$3 cookie q
  cookie=$(login "$u"); [ -n "$cookie" ] || { echo "scaling.sh: login to $name failed" >&2; exit 1; }
  q="/api/v1/kpi?ids=$DASHBOARD&from=2025-01-01&to=2025-12-31&by=store"
  local cold=() t
  for _ in 1 2 3 4 5; do
    $bump
    t=$(curl -s -o "$work/answer-$name.json" -w '%{time_total}' -b "$cookie" "$u$q")
    cold+=("$(awk -v t="$t" 'BEGIN {printf "%.1f", t * 1000}')")
  done
  grep -q '"rows"' "$work/answer-$name.json" || { echo "scaling.sh: $name answered:" >&2; head -c 400 "$work/answer-$name.json" >&2; exit 1; }
  res[$name.cold]=$(printf '%s\n' "${cold[@]}" | median)
  curl -s -o /dev/null -b "$cookie" "$u$q"
  wrk -t2 -c8 -d5s --latency -H "Cookie: $cookie" "$u$q" >"$work/wrk-$name.txt"
  res[$name.rps]=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$name.txt")
  res[$name.p99]=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; print v}' "$work/wrk-$name.txt")
}
bump_primary() { mariadb --no-defaults -uroot --socket="$work/repl/primary/m.sock" fourscore -e "UPDATE data_generation SET generation = generation + 1 WHERE id = 1"; }
bump_replicated() { bump_primary; "$scaling/replica-setup.sh" wait "$work/repl"; }
bump_spider() { mariadb --no-defaults -uroot --socket="$work/spider/front/m.sock" fourscore -e "UPDATE data_generation SET generation = generation + 1 WHERE id = 1"; }

echo "measuring one node ..." >&2
start_serve one --db "$primary"; measure one "$url" bump_primary
echo "measuring with a replica ..." >&2
start_serve replica --db "$primary" --db-read "$replica"; measure replica "$url" bump_replicated
echo "measuring Spider ..." >&2
start_serve spider --db "$spider"; measure spider "$url" bump_spider
res[one.import]=$import_primary; res[replica.import]=$import_primary; res[spider.import]=$import_spider
rebuild() {   # rebuild DB_URL -> wall ms
  local t0; t0=$(now_ms)
  "$bin" rollup --rebuild --db "$1" >>"$work/rebuild.log" 2>&1 || { echo "scaling.sh: rollup --rebuild failed" >&2; tail -5 "$work/rebuild.log" >&2; exit 1; }
  echo $(( $(now_ms) - t0 ))
}
echo "rebuilding the rollups ..." >&2
res[one.rebuild]=$(rebuild "$primary"); res[replica.rebuild]=${res[one.rebuild]}; res[spider.rebuild]=$(rebuild "$spider")

# --- the table ---
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}'; }
echo
echo "Fourscore scaling benchmark: $stores stores, $years years ($(( $(wc -l <"$work/csv/repair_orders.csv") - 1 )) repair orders), $(nproc) cores"
printf '%-34s %14s %14s %8s %14s %8s\n' "" "one node" "+ replica" "ratio" "Spider (2 BE)" "ratio"
row() {   # row LABEL KEY
  printf '%-34s %14s %14s %8s %14s %8s\n' "$1" "${res[one.$2]}" "${res[replica.$2]}" "$(ratio "${res[replica.$2]}" "${res[one.$2]}")" \
    "${res[spider.$2]}" "$(ratio "${res[spider.$2]}" "${res[one.$2]}")"
}
row "import, whole set (ms)" import
row "dashboard by store, cold (ms)" cold
row "rollup --rebuild (ms)" rebuild
row "dashboard, warm: requests/s" rps
row "dashboard, warm: p99 (ms)" p99
