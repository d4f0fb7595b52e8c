#!/usr/bin/env bash
# upload.sh: what one store's monthly upload costs in a large group (outside
# CI). On a copy of a loaded demo data dir (`fourscore demo --stores N
# --years Y`, the original is left as it is), with `fourscore serve` running
# on it as in production, three stores each upload the month after the
# data's last one: their repair orders of the data's last full month with
# their labour and parts lines, given new order numbers and moved one month
# on. Each upload is the three `fourscore import` commands (repair_orders,
# ro_labour, ro_parts), timed end to end, against the same three files put
# into empty copies of the same tables by MariaDB's own LOAD DATA LOCAL
# INFILE (the floor: the rows written, nothing derived). The first store's
# upload is the group's first of the new month (the retention and
# receivables month ends move on for every store); the next two are the
# usual case. Target (issue "fast at any date"): <= 1.5 s end to end.
#
# usage: tests/bench/upload.sh --data DIR [--bin PATH]
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${FOURSCORE_BIN:-$here/build/fourscore}
src=
while [ $# -gt 0 ]; do
    case "$1" in
        --data) src=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "upload.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$src" ] && [ -d "$src" ] || { echo "upload.sh: --data DIR (a loaded demo data dir) is needed" >&2; exit 2; }

. "$here/tests/bench/lib.sh"
bench_init upload.sh curl mariadb python3

bench_copy upload.sh "$src"
bench_last_month
mapfile -t stores < <(sql -e "SELECT store_code FROM stores ORDER BY store_code LIMIT 3")

ms_since() { python3 -c "import time, sys; print(round((time.time() - float(sys.argv[1])) * 1000))" "$1"; }
now() { python3 -c 'import time; print(time.time())'; }

# LOAD DATA of the three files into empty copies of the tables: ms.
load_data_ms() {
    local dir=$1 t0
    sql -e "DROP TABLE IF EXISTS ref_ro, ref_labour, ref_parts;
            CREATE TABLE ref_ro LIKE repair_orders; CREATE TABLE ref_labour LIKE ro_labour;
            CREATE TABLE ref_parts LIKE ro_parts"
    t0=$(now)
    mariadb --no-defaults --local-infile=1 -S "$sock" -uroot fourscore -e "
        LOAD DATA LOCAL INFILE '$dir/repair_orders.csv' INTO TABLE ref_ro FIELDS TERMINATED BY ',' IGNORE 1 LINES
          (store_code, ro_no, vin, customer_code, @adv, ro_type, payer, @ins, opened_at, @closed, @km, @other, @disc, @cb)
          SET advisor_code = NULLIF(@adv, ''), insurer_code = NULLIF(@ins, ''), closed_at = NULLIF(@closed, ''),
              mileage_km = NULLIF(@km, ''), other_amount = NULLIF(@other, ''), discount_amount = NULLIF(@disc, ''),
              comeback_of = NULLIF(@cb, '');
        LOAD DATA LOCAL INFILE '$dir/ro_labour.csv' INTO TABLE ref_labour FIELDS TERMINATED BY ',' IGNORE 1 LINES
          (store_code, ro_no, line_no, @op, @tech, sold_hours, @clocked, amount)
          SET op_code = NULLIF(@op, ''), technician_code = NULLIF(@tech, ''), clocked_hours = NULLIF(@clocked, '');
        LOAD DATA LOCAL INFILE '$dir/ro_parts.csv' INTO TABLE ref_parts FIELDS TERMINATED BY ',' IGNORE 1 LINES
          (store_code, ro_no, line_no, part_no, category, qty, unit_price, unit_cost, @fs)
          SET from_stock = NULLIF(@fs, '')"
    ms_since "$t0"
    sql -e "DROP TABLE ref_ro, ref_labour, ref_parts"
}

printf '\nupload: one store'"'"'s month (%s moved one month on) into %s stores; end to end (ms)\n\n' \
    "${month_first:0:7}" "$(sql -e 'SELECT COUNT(*) FROM stores')"
printf '%-8s %-34s %9s %9s %9s %9s %10s %7s\n' store case ROs lines "ROs ms" "lines ms" "LOAD DATA" ratio
n=0
for st in "${stores[@]}"; do
    n=$((n + 1))
    dir="$work/up-$st"
    export_month "$st" "$dir"
    ros=$(( $(wc -l <"$dir/repair_orders.csv") - 1 ))
    lines=$(( $(wc -l <"$dir/ro_labour.csv") + $(wc -l <"$dir/ro_parts.csv") - 2 ))
    ref=$(load_data_ms "$dir")
    t0=$(now)
    "$bin" import --verbose repair_orders "$dir/repair_orders.csv" --data-dir "$data" >"$work/imp.log" 2>&1 ||
        { cat "$work/imp.log" >&2; exit 1; }
    t_ro=$(ms_since "$t0")
    phases=$(grep -o '(seconds: [^)]*)' "$work/imp.log" | head -1)
    t1=$(now)
    for e in ro_labour ro_parts; do
        "$bin" import "$e" "$dir/$e.csv" --data-dir "$data" >"$work/imp.log" 2>&1 || { cat "$work/imp.log" >&2; exit 1; }
    done
    t_lines=$(ms_since "$t1")
    total=$((t_ro + t_lines))
    case $n in 1) what="first of the new month (month ends on)" ;; *) what="the usual case" ;; esac
    printf '%-8s %-34s %9s %9s %9s %9s %10s %7s\n' "$st" "$what" "$ros" "$lines" "$t_ro" "$t_lines" "$ref" \
        "$(python3 -c "print(f'{$total / max($ref, 1):.1f}x')")"
    printf '%-8s %-34s %9s %9s %9s   repair orders %s\n' "" "  total" "" "" "$total" "$phases"
done
echo
echo "target: <= 1500 ms end to end for the usual case"
