#!/usr/bin/env bash
# spider-setup: a Spider layout of Fourscore's database on this machine, for
# tests and for trying it (docs/scaling.md). Three private mariadbd on sockets
# under DIR: a front end (the database Fourscore's --db points at) and two back
# ends (these on loopback TCP: 127.0.0.2 and 127.0.0.3, ports chosen free). The largest fact tables (SHARDED below) live on the back ends,
# partitioned by store_code, and are Spider tables on the front end; every
# other table is a plain InnoDB table on the front end. Spider runs a
# transaction that touches both back ends as XA (spider_internal_xa), so an
# import stays all or nothing.
#
#   tests/scaling/spider-setup.sh start DIR   # prints the --db URL on its last line
#   tests/scaling/spider-setup.sh stop DIR
#
# The schema is Fourscore's own: `fourscore migrate` creates it on the front
# end, then this script moves the SHARDED tables out. The foreign keys that
# name a sharded table are dropped (Spider tables have none; the importer
# checks parents itself). FOURSCORE_BIN: the binary (default build/fourscore).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# The fact tables that grow with every RO and line, all keyed by store_code.
# rollup_ro (one row per RO) stays on the front end: the KPI engine reads it
# with correlated subqueries, and Spider (10.11) answers those wrongly (see
# docs/scaling.md). SPIDER_SHARDED="t1 t2 ..." overrides the list.
read -r -a SHARDED <<<"${SPIDER_SHARDED:-repair_orders ro_labour ro_parts}"
DBNAME=fourscore
BACKENDS=(be1 be2)

usage() { sed -n '2,/^set /p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
[ $# -ge 1 ] && { [ "$1" = -h ] || [ "$1" = --help ]; } && { usage; exit 0; }
[ $# -eq 2 ] || { usage >&2; exit 2; }
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
bin=${FOURSCORE_BIN:-$top/build/fourscore}
me=spider-setup
. "$here/lib.sh"

if [ "$cmd" = stop ]; then
  for n in front "${BACKENDS[@]}"; do stop_node "$n"; done
  exit 0
fi
[ "$cmd" = start ] || { usage >&2; exit 2; }

# Each back end listens on TCP on its own loopback address (127.0.0.2,
# 127.0.0.3): Spider tells the members of one XA transaction apart by host
# name alone (mysql.spider_xa_member), so two back ends on one address, even
# on two ports or sockets, fail every commit with "This xid member already
# exists" (12606).
declare -A port host
for i in "${!BACKENDS[@]}"; do
  b=${BACKENDS[$i]}; host[$b]=127.0.0.$((i + 2))
  port[$b]=$(node_port "$b")
  start_node "$b" --skip-networking=0 --bind-address="${host[$b]}" --port="${port[$b]}"
done
# spider_internal_xa: a transaction over several back ends commits as XA;
# spider_direct_dup_insert: INSERT ... ON DUPLICATE KEY UPDATE (the importer's
# upsert) runs on the back end that holds the row
start_node front --plugin-load-add=ha_spider --spider-internal-xa=1 --spider-direct-dup-insert=1
url="mariadb://root:@localhost/$DBNAME?socket=$dir/front/m.sock"

if [ "$(sql front -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$DBNAME' AND ENGINE = 'SPIDER'")" != 0 ]; then
  say "the layout exists already"; echo "$url"; exit 0
fi

# --- the schema on the front end ---

say "front end: fourscore migrate"
sql front -e "CREATE DATABASE IF NOT EXISTS $DBNAME CHARACTER SET utf8mb4"
"$bin" migrate --db "$url" >&2

in_list=$(printf "'%s'," "${SHARDED[@]}"); in_list=${in_list%,}
# foreign keys from or to a sharded table
sql front -e "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
              WHERE CONSTRAINT_SCHEMA = '$DBNAME' AND (TABLE_NAME IN ($in_list) OR REFERENCED_TABLE_NAME IN ($in_list))" |
while IFS=$'\t' read -r table fk; do
  sql front "$DBNAME" -e "ALTER TABLE \`$table\` DROP FOREIGN KEY \`$fk\`"
done

# --- back ends and servers ---

for b in "${BACKENDS[@]}"; do
  sql "$b" -e "CREATE DATABASE IF NOT EXISTS $DBNAME CHARACTER SET utf8mb4;
               CREATE USER IF NOT EXISTS spider@'127.%' IDENTIFIED BY 'spider-pass';
               GRANT ALL ON $DBNAME.* TO spider@'127.%'"
  sql front -e "CREATE OR REPLACE SERVER $b FOREIGN DATA WRAPPER mysql
                OPTIONS (HOST '${host[$b]}', PORT ${port[$b]}, DATABASE '$DBNAME', USER 'spider', PASSWORD 'spider-pass')"
done

# --- the sharded tables ---

for t in "${SHARDED[@]}"; do
  ddl=$(sql front "$DBNAME" -e "SHOW CREATE TABLE \`$t\`" | cut -f2-)
  [ -n "$ddl" ] || { say "no table $t on the front end"; exit 1; }
  for b in "${BACKENDS[@]}"; do sql "$b" "$DBNAME" -e "$ddl"; done
  # the front end's Spider table: the same columns and keys, partitioned by
  # store_code (every primary key of a fact table starts with it; a table
  # still keyed by an AUTO_INCREMENT id gets it as a plain key)
  parts=""
  for i in "${!BACKENDS[@]}"; do parts+="${parts:+, }PARTITION p$((i + 1)) COMMENT = 'srv \"${BACKENDS[$i]}\"'"; done
  spider_ddl=$(printf '%s\n' "$ddl" |
    sed -e 's/PRIMARY KEY (`id`)/KEY `k_id` (`id`)/' \
        -e "s/ENGINE=InnoDB\(.*\)\$/ENGINE=SPIDER\1 COMMENT='wrapper \"mysql\", table \"$t\"'/" \
        -e 's/AUTO_INCREMENT=[0-9]* //')
  spider_ddl+=" PARTITION BY KEY (store_code) ($parts)"
  sql front "$DBNAME" -e "DROP TABLE \`$t\`; $spider_ddl" ||
    { say "could not create the Spider table $t:"; printf '%s\n' "$spider_ddl" >&2; exit 1; }
  say "$t: Spider table over ${BACKENDS[*]}"
done

echo "$url"
