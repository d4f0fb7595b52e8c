#!/bin/sh
# import.sh: how fast ro_parts rows go in through `fourscore import`, side by
# side with MariaDB's own LOAD DATA LOCAL INFILE of the same file into the
# same table of the same server. Prints a table and the ratio.
#
#   tests/bench/import.sh [ROWS]          (default 500000; 10 lines per RO)
#   ROUNDS=3 (default): rounds of the two loads, alternating; each printed
#
# FOURSCORE_BIN picks the binary (default build/fourscore; build it with
# -DCMAKE_BUILD_TYPE=Release for a fair figure). The script starts its own
# mariadbd in a temporary directory (removed at the end) and points
# `fourscore import --db` at it, so both loaders talk to one server with one
# configuration. FLUSH=1|2 sets the server's innodb_flush_log_at_trx_commit
# (default 1, each commit on disk; local mode's FOURSCORE_LOCALDB_FLUSH).
set -eu

ROWS=${1:-500000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${FOURSCORE_BIN:-$ROOT/build/fourscore}
[ -x "$BIN" ] || { echo "import.sh: no binary at $BIN (build first, or set FOURSCORE_BIN)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fs-bench-XXXXXX")
SOCK=$WORK/m.sock
MPID=""
cleanup() {
    if [ -n "$MPID" ]; then kill "$MPID" 2>/dev/null || true; wait "$MPID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# --- a private MariaDB server ---
echo "starting a private MariaDB in $WORK ..." >&2
mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$WORK/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$WORK/install.log" 2>&1
ROOTOPT=""
[ "$(id -u)" = 0 ] && ROOTOPT="--user=root"
mariadbd --no-defaults --datadir="$WORK/data" --socket="$SOCK" --skip-networking --skip-log-bin \
    --innodb-buffer-pool-size=512M --innodb-log-file-size=256M --local-infile=1 \
    --innodb-flush-log-at-trx-commit="${FLUSH:-1}" \
    --pid-file="$WORK/m.pid" --log-error="$WORK/m.err" $ROOTOPT &
MPID=$!
sql() { mariadb --no-defaults -uroot --socket="$SOCK" --local-infile=1 -N -B "$@"; }
i=0
until sql -e 'SELECT 1' >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "mariadbd did not start:" >&2; tail "$WORK/m.err" >&2; exit 1; }
    sleep 0.1
done
sql -e 'CREATE DATABASE fourscore'
DB="mariadb://root:@localhost/fourscore?socket=$SOCK"

# --- the files ---
ROS=$(( (ROWS + 9) / 10 ))
echo "writing $ROWS ro_parts rows over $ROS repair orders ..." >&2
printf 'region_code,name\nSOUTH,South\n' > "$WORK/regions.csv"
printf 'store_code,name,brand,region_code\nGZ01,Bench store,Toyota,SOUTH\n' > "$WORK/stores.csv"
printf 'store_code,customer_code,type\nGZ01,C001,individual\n' > "$WORK/customers.csv"
awk -v n="$ROS" 'BEGIN {
    print "store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at";
    for (i = 0; i < n; i++) {
        d = 1 + i % 28;
        printf "GZ01,R%07d,LSVAA4180E2%06d,C001,maintenance,customer,2024-06-%02d 09:00,2024-06-%02d 17:00\n", i, i % 1000000, d, d;
    }
}' > "$WORK/repair_orders.csv"
awk -v n="$ROWS" 'BEGIN {
    print "store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost,from_stock";
    cats[0] = "part"; cats[1] = "material"; cats[2] = "accessory";
    for (i = 0; i < n; i++) {
        ro = int(i / 10); line = i % 10 + 1;
        printf "GZ01,R%07d,%d,P%05d,%s,%d.%02d,%d.%02d,%d.%02d,%s\n", ro, line, (i * 7) % 50000, cats[i % 3],
               1 + i % 4, (i * 3) % 100, 10 + i % 900, i % 100, 5 + i % 500, (i * 7) % 100, (i % 5 == 0) ? "0" : "";
    }
}' > "$WORK/ro_parts.csv"

# --- parents, through the importer ---
for e in regions stores customers repair_orders; do
    "$BIN" import "$e" "$WORK/$e.csv" --db "$DB" >/dev/null
done

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# --- ROUNDS rounds, alternating: fourscore import of fresh rows into the
# emptied table, then LOAD DATA LOCAL INFILE of the same file into the same
# emptied table (a burst of load from elsewhere hits both alike); after the
# last round, the same file through fourscore again (all unchanged) ---
load_data() {
    sql fourscore -e "LOAD DATA LOCAL INFILE '$WORK/ro_parts.csv' INTO TABLE ro_parts
        FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\n' IGNORE 1 LINES
        (store_code, ro_no, line_no, part_no, category, qty, unit_price, unit_cost, @from_stock)
        SET from_stock = COALESCE(NULLIF(@from_stock, ''), 1)"
}
rate() { awk -v n="$ROWS" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
ROUNDS=${ROUNDS:-3}
printf '\n%-8s %12s %12s %12s %12s %8s\n' "round" "import s" "import rows/s" "LOAD DATA s" "LD rows/s" "ratio"
worst_ratio=0; worst_rate=999999999
for r in $(seq 1 "$ROUNDS"); do
    sql fourscore -e 'DELETE FROM ro_parts'
    t0=$(now); "$BIN" import --verbose ro_parts "$WORK/ro_parts.csv" --db "$DB" >"$WORK/fs1.out" 2>"$WORK/fs1.err" \
        || { tail -20 "$WORK/fs1.err" >&2; exit 1; }; t1=$(now)
    FS_NEW=$(elapsed "$t0" "$t1")
    grep -q " $ROWS rows: $ROWS inserted" "$WORK/fs1.out" || { echo "unexpected: $(cat "$WORK/fs1.out")" >&2; exit 1; }
    FS_SUM=$(sql fourscore -e 'SELECT SUM(qty * unit_price) FROM ro_parts')
    sql fourscore -e 'DELETE FROM ro_parts'
    t0=$(now); load_data; t1=$(now)
    LD=$(elapsed "$t0" "$t1")
    LD_SUM=$(sql fourscore -e 'SELECT SUM(qty * unit_price) FROM ro_parts')
    [ "$FS_SUM" = "$LD_SUM" ] || { echo "the two loads differ: $FS_SUM vs $LD_SUM" >&2; exit 1; }
    RATIO=$(awk -v a="$FS_NEW" -v b="$LD" 'BEGIN { printf "%.2f", a / b }')
    printf '%-8s %12.2f %12s %12.2f %12s %7sx\n' "$r" "$FS_NEW" "$(rate "$FS_NEW")" "$LD" "$(rate "$LD")" "$RATIO"
    worst_ratio=$(awk -v a="$worst_ratio" -v b="$RATIO" 'BEGIN { print (b > a ? b : a) }')
    worst_rate=$(awk -v a="$worst_rate" -v b="$(rate "$FS_NEW")" 'BEGIN { print (b < a ? b : a) }')
done
# where the time went (the last round), from the importer's own log line
grep -h '"sub":"import"' "$WORK/fs1.out" "$WORK/fs1.err" | sed 's/.*"msg":"//; s/"}$//' >&2 || true
sql fourscore -e 'DELETE FROM ro_parts'
"$BIN" import ro_parts "$WORK/ro_parts.csv" --db "$DB" >/dev/null 2>&1 || { echo "reload failed" >&2; exit 1; }
t0=$(now); "$BIN" import --verbose ro_parts "$WORK/ro_parts.csv" --db "$DB" >"$WORK/fs2.out" 2>"$WORK/fs2.err" \
    || { tail -20 "$WORK/fs2.err" >&2; exit 1; }; t1=$(now)
FS_AGAIN=$(elapsed "$t0" "$t1")
grep -q "$ROWS unchanged" "$WORK/fs2.out" || { echo "unexpected: $(cat "$WORK/fs2.out")" >&2; exit 1; }
printf '%-8s %12.2f %12s   (the same file again: all %s rows unchanged)\n' "again" "$FS_AGAIN" "$(rate "$FS_AGAIN")" "$ROWS"
printf '\nworst of %s rounds: %sx LOAD DATA, %s rows/s (target: at most 2.50x and at least 50000 rows/s in every round)\n' \
    "$ROUNDS" "$worst_ratio" "$worst_rate"
