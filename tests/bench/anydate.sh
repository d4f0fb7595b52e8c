#!/usr/bin/env bash
# anydate.sh: are the periods that end on a day of a running month as fast
# as the last full month? (outside CI). On a loaded demo group, served by the
# real `fourscore serve`, "today" is the 20th of the data's last month (or
# the data's last day when that is not a month end), and each page's batch
# is sent cold (every KPI cache dropped just before, the buffer pool warm)
# for four periods: the last full month before today (the reference), the
# month to date, the quarter to date and the year to date. Printed: the
# median of REPEAT calls (default 3) and the ratio to the last full month
# (target <= 1.5x), for
#   store page        every KPI by store for one store, the same period a
#                     year before, and 24 months of 12 KPIs by month (as
#                     web/js/store.js asks: now, a year before, the trend)
#   retention page    the retention KPIs by store and by group
#   receivables page  the receivables KPIs by store and by group
#
# usage: tests/bench/anydate.sh --data DIR [--bin PATH]
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${FOURSCORE_BIN:-$here/build/fourscore}
data=
repeat=${REPEAT:-3}
while [ $# -gt 0 ]; do
    case "$1" in
        --data) data=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "anydate.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$data" ] && [ -d "$data" ] || { echo "anydate.sh: --data DIR (a loaded demo data dir) is needed" >&2; exit 2; }

. "$here/tests/bench/lib.sh"
bench_init anydate.sh curl mariadb python3
bench_serve anydate.sh

last=$(sql -e "SELECT MAX(day) FROM rollup_ro_day")
store=$(sql -e "SELECT store_code FROM stores ORDER BY store_code LIMIT 1")
catalogue=$(curl -s -b "$cookie" "$url/api/v1/kpis")

# The batches of each page and period, as JSON files: name.json.
python3 - "$last" "$store" "$work" "$catalogue" <<'PY'
import calendar, datetime, json, sys
last, store, work, catalogue = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
d = datetime.date.fromisoformat(last)
today = d.replace(day=20) if d.day == calendar.monthrange(d.year, d.month)[1] else d
def month_end(y, m): return datetime.date(y, m, calendar.monthrange(y, m)[1])
def back(y, m, k): k = y * 12 + m - 1 - k; return k // 12, k % 12 + 1
ly, lm = back(today.year, today.month, 1)
periods = {
    'last month': (datetime.date(ly, lm, 1), month_end(ly, lm)),
    'month to date': (today.replace(day=1), today),
    'quarter to date': (datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1), today),
    'year to date': (datetime.date(today.year, 1, 1), today),
}
def year_before(x):
    return x.replace(year=x.year - 1, day=min(x.day, calendar.monthrange(x.year - 1, x.month)[1]))
ids = [k['id'] for k in catalogue['kpis'] if 'store' in k['by']]
of = lambda plugin: [k['id'] for k in catalogue['kpis'] if k['plugin'] == plugin and 'store' in k['by']]
trend = [i for i in ['service.revenue', 'service.ro_count', 'labour.share', 'parts.gross_margin',
                     'insurance.renewal_rate', 'service.comeback_rate', 'csi.score', 'service.followup_rate',
                     'receivables.open', 'receivables.over_90_share', 'retention.at_risk', 'retention.lost'] if i in ids]
names = {}
for n, (f, t) in periods.items():
    ty, tm = back(t.year, t.month, 23)
    iso = lambda x: x.isoformat()
    pages = {
        'store page': [{'ids': ids, 'from': iso(f), 'to': iso(t), 'by': 'store', 'stores': [store]},
                       {'ids': ids, 'from': iso(year_before(f)), 'to': iso(year_before(t)), 'by': 'store', 'stores': [store]},
                       {'ids': trend, 'from': iso(datetime.date(ty, tm, 1)), 'to': iso(t), 'by': 'month', 'stores': [store]}],
        'retention page': [{'ids': of('retention'), 'from': iso(f), 'to': iso(t), 'by': b} for b in ('store', 'group')],
        'receivables page': [{'ids': of('receivables'), 'from': iso(f), 'to': iso(t), 'by': b} for b in ('store', 'group')],
    }
    for page, queries in pages.items():
        name = f'{page}|{n}|{iso(f)}..{iso(t)}'
        path = f'{work}/b{len(names)}.json'
        json.dump(queries, open(path, 'w'))
        names[path] = name
json.dump(names, open(f'{work}/names.json', 'w'))
print(today.isoformat())
PY

median() { python3 -c "import statistics, sys; print(round(statistics.median(map(float, sys.argv[1:])), 1))" "$@"; }
post_ms() {        # ms of one POST of the batch file $1, cold; fails on a non-200
    local out
    invalidate
    out=$(curl -s -o "$work/body" -w '%{http_code} %{time_total}' -b "$cookie" -H "origin: $url" \
        -H 'content-type: application/json' --data-binary @"$1" "$url/api/v1/kpi/batch")
    [ "${out% *}" = 200 ] || { echo "anydate.sh: $1 -> ${out% *}: $(head -c 300 "$work/body")" >&2; exit 1; }
    python3 -c "print(float('${out#* }') * 1000)"
}

printf '\nanydate: page batches, cold, median of %s (ms); %s stores, store %s, data through %s\n\n' \
    "$repeat" "$(sql -e 'SELECT COUNT(*) FROM stores')" "$store" "$last"
printf '%-18s %-18s %-24s %9s %8s\n' page period dates ms ratio
declare -A ref
for f in $(python3 -c "import json; print(' '.join(json.load(open('$work/names.json'))))"); do
    name=$(python3 -c "import json; print(json.load(open('$work/names.json'))['$f'])")
    page=${name%%|*}; rest=${name#*|}; period=${rest%%|*}; dates=${rest#*|}
    post_ms "$f" >/dev/null                     # warms the buffer pool
    times=()
    for _ in $(seq 1 "$repeat"); do times+=("$(post_ms "$f")"); done
    m=$(median "${times[@]}")
    if [ "$period" = "last month" ]; then ref[$page]=$m; ratio=1.00x
    else ratio=$(python3 -c "print(f'{$m / max(${ref[$page]}, 0.1):.2f}x')"); fi
    printf '%-18s %-18s %-24s %9s %8s\n' "$page" "$period" "$dates" "$m" "$ratio"
done
echo
echo "target: every running period <= 1.5x the last full month of its page"
