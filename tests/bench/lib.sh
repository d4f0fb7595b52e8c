# lib.sh: what the benchmarks that serve a data dir share. Source it after
# setting $bin; bench_init checks the tools and makes $work; bench_serve
# (with $data and $work set) starts `fourscore serve` on the data dir, signs
# in as an admin of its own, and gives sql() on the local MariaDB. Sets
# $server_pid, $url, $cookie; exits with a message on failure.
#   bench_init NAME TOOL...
#   bench_serve NAME [ENV=VALUE...]   (NAME: the calling script, for messages)
#   bench_copy NAME SRC [ENV=VALUE...] (serves a copy of the data dir SRC)
#   bench_last_month                   ($last, $month_end, $month_first)
# and, for the scripts that need them, the group overview's batch
# (overview_batch) and one store's month of repair orders moved one month on
# (export_month).

export FOURSCORE_ADMIN_PASSWORD=${FOURSCORE_ADMIN_PASSWORD:-bench-admin-pass-1}
export FOURSCORE_PWHASH_OPSLIMIT=1 FOURSCORE_PWHASH_MEMLIMIT=8388608

# bench_init NAME TOOL...: the tools and $bin there, then $work made and, at
# exit, the server stopped and $work removed (kept with KEEP=1).
bench_init() {
    local name=$1 tool
    shift
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$name: $tool is needed" >&2; exit 2; }
    done
    [ -x "$bin" ] || { echo "$name: $bin is not built (cmake --build build)" >&2; exit 2; }
    work=$(mktemp -d "${TMPDIR:-/tmp}/fs-bench-${name%.sh}-XXXXXX")
    server_pid=
    trap bench_cleanup EXIT
}
bench_cleanup() {
    if [ -n "${server_pid:-}" ]; then kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; fi
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}

# bench_copy NAME SRC: $data becomes a copy of the data dir SRC in $work (the
# script changes the copy only), then the server runs on it (bench_serve).
bench_copy() {
    local name=$1 from=$2
    shift 2
    echo "copying $from (the script changes the copy only) ..." >&2
    cp -a "$from" "$work/data"
    data="$work/data"
    bench_serve "$name" "$@"
}
# bench_last_month: $last (the data's last day), $month_end (the last full
# month's end) and $month_first (its first day), from the rollups (sql()).
bench_last_month() {
    last=$(sql -e "SELECT MAX(day) FROM rollup_ro_day")
    month_end=$(sql -e "SELECT IF(LAST_DAY('$last') = '$last', '$last', LAST_DAY(DATE_SUB('$last', INTERVAL 1 MONTH)))")
    month_first="${month_end:0:8}01"
}

bench_serve() {
    local name=$1
    shift
    # an admin of the bench's own (a reused data dir has an admin whose password we do not know)
    printf '%s\n' "$FOURSCORE_ADMIN_PASSWORD" |
        "$bin" user add bench_admin --role admin --password-stdin --data-dir "$data" >/dev/null
    env "$@" "$bin" serve --listen 127.0.0.1:0 --data-dir "$data" >"$work/serve.log" 2>&1 &
    server_pid=$!
    url=
    for _ in $(seq 1 600); do
        url=$(grep -o 'listening on http://[0-9.:]*' "$work/serve.log" | head -1 | sed 's/listening on //') || true
        [ -n "$url" ] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$url" ] || { echo "$name: the server did not start" >&2; exit 1; }
    cookie=$(curl -s -i -H 'content-type: application/json' \
        -d "{\"username\":\"bench_admin\",\"password\":\"$FOURSCORE_ADMIN_PASSWORD\"}" "$url/api/v1/session" |
        tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
    [ -n "$cookie" ] || { echo "$name: login failed" >&2; exit 1; }
    sock=$(grep -o -- "--socket=[^' ]*" "$data/mariadbd.cmd" | head -1 | sed 's/^--socket=//')
    [ -n "$sock" ] || sock="$data/mysqld.sock"
}

sql() { mariadb --no-defaults -S "$sock" -uroot -N -B fourscore "$@"; }

# A setting written with its own value: every KPI cache drops.
invalidate() {
    curl -s -o /dev/null -b "$cookie" -H "origin: $url" -H 'content-type: application/json' -X PUT \
        -d '{"service.followup_days": 3}' "$url/api/v1/settings"
}

# overview_batch END: the group overview's one batch as JSON (web/js/overview.js:
# the last full month up to END with targets, the month before, the same month
# a year before, 12 months by month and the same months a year before, by
# store, by region).
overview_batch() {
    python3 - "$1" <<'PY'
import calendar, datetime, json, sys
end = datetime.date.fromisoformat(sys.argv[1])
if end.day != calendar.monthrange(end.year, end.month)[1]:
    end = end.replace(day=1) - datetime.timedelta(days=1)
def month(y, m): return (datetime.date(y, m, 1), datetime.date(y, m, calendar.monthrange(y, m)[1]))
def shift(y, m, k): k += y * 12 + m - 1; return k // 12, k % 12 + 1
f, t = month(end.year, end.month)
pf, pt = month(*shift(end.year, end.month, -1))
yf, yt = month(end.year - 1, end.month)
mf, _ = month(*shift(end.year, end.month, -11))
lf, lt = month(*shift(end.year - 1, end.month, -11))[0], yt
ids = ['service.revenue', 'service.ro_count', 'service.revenue_per_ro', 'labour.share', 'parts.gross_margin',
       'receivables.over_90_share', 'insurance.renewal_rate', 'retention.churn_y1', 'csi.score',
       'service.mech_ro_count', 'service.body_ro_count']
trend = ['service.revenue', 'service.ro_count', 'service.revenue_per_ro', 'labour.share']
d = lambda x: x.isoformat()
print(json.dumps([
    {'ids': ids, 'from': d(f), 'to': d(t), 'by': 'group', 'targets': True},
    {'ids': ids, 'from': d(pf), 'to': d(pt), 'by': 'group'},
    {'ids': ids, 'from': d(yf), 'to': d(yt), 'by': 'group'},
    {'ids': trend, 'from': d(mf), 'to': d(t), 'by': 'month', 'targets': True},
    {'ids': trend, 'from': d(lf), 'to': d(lt), 'by': 'month'},
    {'ids': ids, 'from': d(f), 'to': d(t), 'by': 'store'},
    {'ids': ids, 'from': d(f), 'to': d(t), 'by': 'region'}]))
PY
}

# export_month STORE DIR: the repair orders of STORE closed from $month_first
# to $month_end with their labour and parts lines, given new order numbers
# and moved one month on, as the three import files in DIR (sql() must work).
export_month() {
    local st=$1 out=$2 sel="store_code = '$1' AND ro_no IN (SELECT ro_no FROM repair_orders WHERE store_code = '$1'
        AND closed_at >= '$month_first' AND closed_at < '$month_end' + INTERVAL 1 DAY)"
    mkdir -p "$out"
    { echo "store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,insurer_code,opened_at,closed_at,mileage_km,other_amount,discount_amount,comeback_of"
      sql -e "SELECT CONCAT_WS(',', store_code, CONCAT(ro_no, 'U'), vin, customer_code, COALESCE(advisor_code, ''),
                ro_type, payer, COALESCE(insurer_code, ''), opened_at + INTERVAL 1 MONTH,
                COALESCE(closed_at + INTERVAL 1 MONTH, ''), COALESCE(mileage_km, ''), COALESCE(other_amount, ''),
                COALESCE(discount_amount, ''), '') FROM repair_orders WHERE $sel ORDER BY ro_no"
    } >"$out/repair_orders.csv"
    { echo "store_code,ro_no,line_no,op_code,technician_code,sold_hours,clocked_hours,amount"
      sql -e "SELECT CONCAT_WS(',', store_code, CONCAT(ro_no, 'U'), line_no, COALESCE(op_code, ''),
                COALESCE(technician_code, ''), sold_hours, COALESCE(clocked_hours, ''), amount)
              FROM ro_labour WHERE $sel ORDER BY ro_no, line_no"
    } >"$out/ro_labour.csv"
    { echo "store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost,from_stock"
      sql -e "SELECT CONCAT_WS(',', store_code, CONCAT(ro_no, 'U'), line_no, part_no, category, qty, unit_price,
                unit_cost, COALESCE(from_stock, '')) FROM ro_parts WHERE $sel ORDER BY ro_no, line_no"
    } >"$out/ro_parts.csv"
}
