#!/usr/bin/env bash
# lists.sh: the lists benchmark (outside CI). Loads a demo group into a
# private local-mode database (`fourscore demo --stores N --years Y`), serves
# it with the real `fourscore serve` and the statement trace on
# (FOURSCORE_KPI_TRACE), and prints side by side:
#   - for every list of GET /api/v1/lists, with `to` at the data's last month
#     end and at the 15th of that month (a period list: from the 1st), the
#     cold first page (limit 100) for the whole group and for one store,
#     against the same statements replayed in the `mariadb` client (a list
#     with page keys runs two: its page's keys, then that page's rows; taken
#     from the trace, where the engine writes them with their parameters;
#     timed by the server's own profiling): ratio target <= 1.5x, and the
#     group's first page of retention.at_risk <= 300 ms;
#   - every list exported whole to .xlsx for the group at the month end
#     (GET /api/v1/list/export) against the same rows written by
#     libxlsxwriter alone (tests/bench/lists_xlsx_ref.c, built here, fed the
#     export's own statement from the trace): ratio target <= 2x; and the
#     server's resident memory (VmRSS) before and after each export, with its
#     peak (VmHWM), which must not grow with the row count.
# "Cold": every KPI cache is dropped before each call (lists keep no cache of
# their own; the buffer pool is warm, as on a server that has been up).
# Times are medians of REPEAT calls (default 3).
#
# usage: tests/bench/lists.sh [--stores N] [--years Y] [--data DIR] [--bin PATH]
#   defaults: --stores 200 --years 3 (LISTS_STORES, LISTS_YEARS override them,
#   e.g. LISTS_STORES=24 LISTS_YEARS=1 for a quick run); --data reuses a data
#   dir a previous run loaded (KEEP=1 keeps the one made here).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${FOURSCORE_BIN:-$here/build/fourscore}
stores=${LISTS_STORES:-200}
years=${LISTS_YEARS:-3}
repeat=${REPEAT:-3}
data=
while [ $# -gt 0 ]; do
    case "$1" in
        --stores) stores=$2; shift 2 ;;
        --years) years=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        *) echo "lists.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

. "$here/tests/bench/lib.sh"
bench_init lists.sh curl mariadb python3 cc pkg-config

# --- the data ---
if [ -z "$data" ]; then
    data="$work/data"
    echo "loading a demo group of $stores stores, $years years (minutes) ..." >&2
    "$bin" demo --stores "$stores" --years "$years" --data-dir "$data" >"$work/demo.log" 2>&1 ||
        { tail -20 "$work/demo.log" >&2; exit 1; }
fi
[ -d "$data" ] || { echo "lists.sh: no data dir $data" >&2; exit 2; }

# --- the server, with the statement trace ---
trace="$work/trace.sql"
bench_serve lists.sh FOURSCORE_KPI_TRACE="$trace"
touch "$trace"

# --- the reference writer ---
cc -std=c11 -O2 -D_GNU_SOURCE $(pkg-config --cflags libmariadb xlsxwriter) "$here/tests/bench/lists_xlsx_ref.c" \
   $(pkg-config --libs libmariadb xlsxwriter) -o "$work/lists_xlsx_ref"

# --- dates and scopes ---
last=$(sql -e "SELECT MAX(day) FROM rollup_ro_day")
monthend=$(sql -e "SELECT IF(LAST_DAY('$last') = '$last', '$last', LAST_DAY(DATE_SUB('$last', INTERVAL 1 MONTH)))")
midmonth="${monthend:0:8}15"
first="${monthend:0:8}01"
store=$(curl -s -b "$cookie" "$url/api/v1/stores" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["code"])')
catalogue=$(curl -s -b "$cookie" "$url/api/v1/lists")
lists=$(echo "$catalogue" | python3 -c 'import json, sys; print(" ".join(l["id"] for l in json.load(sys.stdin)))')
as_of() { echo "$catalogue" | python3 -c 'import json, sys; print(next(int(l["as_of"]) for l in json.load(sys.stdin) if l["id"] == sys.argv[1]))' "$1"; }
[ -n "$lists" ] || { echo "lists.sh: the catalogue has no list" >&2; exit 1; }

median() { python3 -c "import statistics, sys; print(round(statistics.median(map(float, sys.argv[1:])), 1))" "$@"; }

# The statements of list $1 in the trace since line $2 (one call: its page,
# or its page's keys then that page's rows), into file $3; with a 4th
# argument, the last one alone (an export's).
last_statement() {
    if [ -n "${4:-}" ]; then
        tail -n +"$(( $2 + 1 ))" "$trace" | grep -F "/* list $1 */" | tail -1 >"$3"
    else
        tail -n +"$(( $2 + 1 ))" "$trace" | grep -F "/* list $1 */" >"$3"
    fi
    [ -s "$3" ] || { echo "lists.sh: no statement of $1 in the trace" >&2; exit 1; }
}
# ms of one GET (cold), failing on a non-200; the body goes to $work/body.
get_ms() {
    local out
    invalidate
    out=$(curl -s -o "$work/body" -w '%{http_code} %{time_total}' -b "$cookie" "$1")
    [ "${out% *}" = 200 ] || { echo "lists.sh: $1 -> ${out% *}: $(head -c 300 "$work/body")" >&2; exit 1; }
    python3 -c "print(float('${out#* }') * 1000)"
}
# ms of the statements in file $1 in the mariadb client: the server's profiles of them, summed; median of $repeat.
sql_ms() {
    local times=() t
    for _ in $(seq 1 "$repeat"); do
        t=$( { echo "SET profiling = 1;"; cat "$1"; echo "SELECT 'fourscore-profiles';"; echo "SHOW PROFILES;"; } |
            sql 2>"$work/sql.err" | awk -F'\t' 'p && $3 !~ /^SELECT .fourscore-profiles/ { t += $2 } $1 == "fourscore-profiles" { p = 1 } END { print t }') ||
            { cat "$work/sql.err" >&2; exit 1; }
        times+=("$(python3 -c "print(float('$t') * 1000)")")
    done
    median "${times[@]}"
}
rss_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server_pid/status"; }

fails=0
printf '\nlists: first page (limit 100), cold; API vs the same statements in the mariadb client; median of %s (ms)\n' "$repeat"
printf 'group: %s stores; one store: %s; month end %s, mid-month %s\n\n' "$(sql -e 'SELECT COUNT(*) FROM stores')" "$store" "$monthend" "$midmonth"
printf '%-34s %-10s %-6s %8s %9s %9s %7s\n' list to scope rows "API ms" "SQL ms" ratio
for id in $lists; do
    asof=$(as_of "$id")
    for to in "$monthend" "$midmonth"; do
        for scope in group "$store"; do
            q="id=$id&to=$to&limit=100"
            [ "$asof" = 1 ] || q="$q&from=$first"
            [ "$scope" = group ] || q="$q&stores=$scope"
            # the first call warms the buffer pool and writes the statement to the trace
            mark=$(wc -l <"$trace")
            get_ms "$url/api/v1/list?$q" >/dev/null
            rows=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"])' "$work/body")
            last_statement "$id" "$mark" "$work/page.sql"
            times=()
            for _ in $(seq 1 "$repeat"); do times+=("$(get_ms "$url/api/v1/list?$q")"); done
            api=$(median "${times[@]}")
            raw=$(sql_ms "$work/page.sql")
            ratio=$(python3 -c "print(f'{$api / max($raw, 0.1):.2f}')")
            verdict=
            python3 -c "import sys; sys.exit(0 if $ratio <= 1.5 else 1)" ||
                { verdict=" over 1.5x (+$(python3 -c "print(f'{$api - $raw:.1f}')") ms)"; fails=$((fails + 1)); }
            if [ "$id" = retention.at_risk ] && [ "$scope" = group ]; then
                python3 -c "import sys; sys.exit(0 if $api <= 300 else 1)" || { verdict="$verdict over 300 ms"; fails=$((fails + 1)); }
            fi
            printf '%-34s %-10s %-6s %8s %9s %9s %7s%s\n' "$id" "$to" "$scope" "$rows" "$api" "$raw" "$ratio" "$verdict"
        done
    done
done

printf '\nlists: the whole list to .xlsx for the group, %s; API vs libxlsxwriter alone; median of %s (ms); server memory (MB)\n\n' "$monthend" "$repeat"
printf '%-34s %8s %9s %9s %7s %10s %10s %10s\n' list rows "API ms" "ref ms" ratio "RSS before" "RSS after" "peak after"
hwm_first=
for id in $lists; do
    asof=$(as_of "$id")
    q="id=$id&to=$monthend&format=xlsx"
    [ "$asof" = 1 ] || q="$q&from=$first"
    mark=$(wc -l <"$trace")
    rss0=$(rss_kb VmRSS)
    times=()
    for _ in $(seq 1 "$repeat"); do times+=("$(get_ms "$url/api/v1/list/export?$q")"); done
    rss1=$(rss_kb VmRSS)
    hwm=$(rss_kb VmHWM)
    [ -n "$hwm_first" ] || hwm_first=$hwm
    api=$(median "${times[@]}")
    head -c 2 "$work/body" | grep -q PK || { echo "lists.sh: the export of $id is not an xlsx" >&2; exit 1; }
    last_statement "$id" "$mark" "$work/export.sql" last
    refs=()
    rows=
    for _ in $(seq 1 "$repeat"); do
        out=$("$work/lists_xlsx_ref" "$sock" fourscore "$work/export.sql" "$work/ref.xlsx")
        rows=$(echo "$out" | awk '{ print $2 }')
        refs+=("$(echo "$out" | awk '{ print $4 }')")
    done
    ref=$(median "${refs[@]}")
    ratio=$(python3 -c "print(f'{$api / max($ref, 0.1):.2f}')")
    verdict=
    python3 -c "import sys; sys.exit(0 if $ratio <= 2 else 1)" || { verdict=" over 2x"; fails=$((fails + 1)); }
    printf '%-34s %8s %9s %9s %7s %10s %10s %10s%s\n' "$id" "$rows" "$api" "$ref" "$ratio" \
        "$(( rss0 / 1024 ))" "$(( rss1 / 1024 ))" "$(( hwm / 1024 ))" "$verdict"
done
# flat: the peak after every export within 16 MB of the peak after the first
growth=$(( (hwm - hwm_first) / 1024 ))
echo
echo "peak resident memory after the first export: $(( hwm_first / 1024 )) MB, after the last: $(( hwm / 1024 )) MB (+$growth MB)"
[ "$growth" -le 16 ] || { echo "FAIL: the server's memory grew with the exports"; fails=$((fails + 1)); }
if [ "$fails" -gt 0 ]; then echo "$fails target(s) missed"; exit 1; fi
echo "ok"
