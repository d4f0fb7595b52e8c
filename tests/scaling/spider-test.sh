#!/usr/bin/env bash
# spider-test: Fourscore on the Spider layout of spider-setup.sh (a front end
# and two back ends, the largest fact tables sharded by store_code).
#   1. the whole KPI correctness suite (tests/integration/kpi_correctness.test.mjs),
#      unchanged, against the front end (FOURSCORE_TEST_DB_URL);
#   2. the fixture's rows are really spread over both back ends;
#   3. an import that fails half-way (a back end refuses one row) leaves no
#      row on either back end, and the same import without that row lands on both.
# SPIDER_SHARDED="t1 t2 ...": shard other tables (spider-setup.sh).
# Takes about half a minute; tests/integration/scaling.test.mjs runs it (so
# CI does). Prints "N passed, N failed" and exits non-zero on a failure.
#   tests/scaling/spider-test.sh [--keep]    # --keep: leave the layout running
# FOURSCORE_BIN / FOURSCORE_PLUGIN_DIR: the build to test (default build/).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export FOURSCORE_BIN=${FOURSCORE_BIN:-$top/build/fourscore}
export FOURSCORE_PLUGIN_DIR=${FOURSCORE_PLUGIN_DIR:-$(dirname "$FOURSCORE_BIN")/plugins}
keep=0
for a in "$@"; do
  case "$a" in
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "spider-test: unknown option $a (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$FOURSCORE_BIN" ] || { echo "spider-test: no binary at $FOURSCORE_BIN (build first)" >&2; exit 2; }

dir=$(mktemp -d /tmp/fs-spider-XXXXXX)
cleanup() {
  if [ $keep = 1 ]; then echo "layout left running in $dir (stop: $here/spider-setup.sh stop $dir)"; return; fi
  "$here/spider-setup.sh" stop "$dir"; rm -rf "$dir"
}
trap cleanup EXIT
passed=0; failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
sql() {   # sql NODE [client options...] [-e] TEXT
  local node=$1; shift
  local args=("$@"); [ ${#args[@]} = 1 ] && args=(-e "${args[0]}")
  mariadb --no-defaults -uroot --socket="$dir/$node/m.sock" -N -B fourscore "${args[@]}"
}
count_ros() { sql "$1" "SELECT COUNT(*) FROM repair_orders WHERE ro_no LIKE 'SPX%'"; }

echo "==== the Spider layout"
url=$("$here/spider-setup.sh" start "$dir" 2>"$dir/setup.log" | tail -1)
if [ -z "$url" ]; then cat "$dir/setup.log"; echo "0 passed, 1 failed"; exit 1; fi
read -r -a sharded <<<"${SPIDER_SHARDED:-repair_orders ro_labour ro_parts}"
for t in "${sharded[@]}"; do
  engine=$(mariadb --no-defaults -uroot --socket="$dir/front/m.sock" -N -B -e \
    "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'fourscore' AND TABLE_NAME = '$t'")
  [ "$engine" = SPIDER ] && ok "$t is a Spider table on the front end" || not_ok "$t is $engine on the front end"
done

echo "==== 1. the KPI correctness suite against the front end"
log="$dir/kpi_correctness.log"
# (NODE_TEST_CONTEXT unset: run from inside a node test, the suite still reports on its own)
FOURSCORE_TEST_DB_URL="$url" env -u NODE_TEST_CONTEXT node --test "$top/tests/integration/kpi_correctness.test.mjs" >"$log" 2>&1
p=$(grep -E '^# pass ' "$log" | awk '{print $3}'); f=$(grep -E '^# fail ' "$log" | awk '{print $3}')
grep -E '^not ok' "$log"
if [ "${f:-1}" = 0 ] && [ "${p:-0}" -gt 0 ]; then ok "kpi_correctness: $p passed"; else
  not_ok "kpi_correctness: ${p:-0} passed, ${f:-?} failed (log: $log)"; awk '/^not ok/{s=1} s{print} /^  \.\.\.$/{s=0}' "$log" | head -80
  [ -n "$p" ] || tail -30 "$log"
fi

echo "==== 2. rows on both back ends"
for b in be1 be2; do
  n=$(sql "$b" "SELECT COUNT(*) FROM repair_orders"); stores=$(sql "$b" "SELECT GROUP_CONCAT(DISTINCT store_code ORDER BY store_code) FROM repair_orders")
  [ "${n:-0}" -gt 0 ] && ok "back end $b holds $n repair orders (stores $stores)" || not_ok "back end $b holds no repair order"
done
front=$(mariadb --no-defaults -uroot --socket="$dir/front/m.sock" -N -B fourscore -e "SELECT COUNT(*) FROM repair_orders")
sum=$(( $(sql be1 "SELECT COUNT(*) FROM repair_orders") + $(sql be2 "SELECT COUNT(*) FROM repair_orders") ))
[ "$front" = "$sum" ] && ok "the front end sees the back ends' $sum repair orders" || not_ok "front end $front, back ends $sum"

echo "==== 3. an import that fails on one back end writes nothing on either"
# which back end holds S1 and which S2 (KEY partitioning decides)
home_s1=$(for b in be1 be2; do [ "$(sql $b "SELECT COUNT(*) FROM repair_orders WHERE store_code = 'S1'")" != 0 ] && echo $b; done)
home_s2=$(for b in be1 be2; do [ "$(sql $b "SELECT COUNT(*) FROM repair_orders WHERE store_code = 'S2'")" != 0 ] && echo $b; done)
echo "# S1 lives on ${home_s1:-no back end}, S2 on ${home_s2:-no back end}"
[ -n "$home_s1" ] || home_s1=be2   # (no data: the checks below fail on their own)
[ -n "$home_s1" ] && [ -n "$home_s2" ] && [ "$home_s1" != "$home_s2" ] && ok "S1 and S2 live on different back ends" ||
  not_ok "S1 ($home_s1) and S2 ($home_s2) should live on different back ends"
# the back end of S1 refuses one RO number, as a full disk or a lost server would
sql "$home_s1" --delimiter='$$' -e "CREATE TRIGGER refuse_spx BEFORE INSERT ON repair_orders FOR EACH ROW
                IF NEW.ro_no = 'SPX-BAD' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the back end'; END IF" &&
  ok "a trigger on $home_s1 refuses RO SPX-BAD" || not_ok "could not create the trigger on $home_s1"
csv="$dir/ros.csv"
head_line='store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,insurer_code,opened_at,closed_at,mileage_km,other_amount,discount_amount,comeback_of'
{ echo "$head_line"
  for i in 1 2 3; do echo "S2,SPX-$i,LFVKP000000000016,C1,A1,maintenance,customer,,2024-05-0$i 09:00,2024-05-0$i 11:00,,,,"; done
  for i in 1 2 3; do echo "S1,SPX-$i,LFVKP000000000001,C1,A1,maintenance,customer,,2024-05-0$i 09:00,2024-05-0$i 11:00,,,,"; done
  echo "S1,SPX-BAD,LFVKP000000000001,C1,A1,maintenance,customer,,2024-05-05 09:00,2024-05-05 11:00,,,,"; } >"$csv"
out=$("$FOURSCORE_BIN" import repair_orders "$csv" --db "$url" 2>&1); rc=$?
echo "$out" | sed 's/^/# /' | tail -3
[ $rc != 0 ] && ok "the import fails (exit $rc)" || not_ok "the import should fail"
echo "$out" | grep -q 'nothing was written' && ok "it says nothing was written" || not_ok "no 'nothing was written' in the message"
for b in be1 be2; do
  n=$(count_ros "$b"); [ "$n" = 0 ] && ok "no row of the failed import on $b" || not_ok "$n row(s) of the failed import left on $b"
done
grep -v SPX-BAD "$csv" >"$dir/ros-good.csv"
xa_commits() { sql "$1" "SHOW GLOBAL STATUS LIKE 'Com_xa_commit'" | cut -f2; }
xa1_before=$(xa_commits be1); xa2_before=$(xa_commits be2)
"$FOURSCORE_BIN" import repair_orders "$dir/ros-good.csv" --db "$url" >"$dir/good.log" 2>&1 && ok "the same import without the refused row succeeds" ||
  { not_ok "the good import failed"; cat "$dir/good.log"; }
for b in be1 be2; do
  n=$(count_ros "$b"); [ "$n" = 3 ] && ok "3 rows of it on $b" || not_ok "$n rows of it on $b (want 3)"
done

for b in be1 be2; do
  before=$([ $b = be1 ] && echo "$xa1_before" || echo "$xa2_before"); after=$(xa_commits $b)
  [ "$after" -gt "$before" ] && ok "$b committed it as XA (Com_xa_commit $before -> $after)" ||
    not_ok "$b saw no XA COMMIT (Com_xa_commit $before -> $after)"
done

printf '\n%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
