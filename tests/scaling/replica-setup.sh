#!/usr/bin/env bash
# replica-setup: a MariaDB primary and a GTID read replica of it on this
# machine, for trying Fourscore's --db-read and for the benchmark
# (docs/scaling.md shows the same steps for real servers). Under DIR: the
# primary (binary log, server_id 1) and the replica (server_id 2, read only),
# each on its socket and on a loopback TCP port chosen free (the replica reads
# the primary's binary log over TCP).
#
#   tests/scaling/replica-setup.sh start DIR   # prints the --db and --db-read URLs
#   tests/scaling/replica-setup.sh stop DIR
#   tests/scaling/replica-setup.sh wait DIR    # until the replica has applied all the primary logged
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DBNAME=fourscore

usage() { sed -n '2,/^set /p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
[ $# -ge 1 ] && { [ "$1" = -h ] || [ "$1" = --help ]; } && { usage; exit 0; }
[ $# -eq 2 ] || { usage >&2; exit 2; }
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
me=replica-setup
. "$here/lib.sh"

wait_replica() {
  local pos; pos=$(sql primary -e 'SELECT @@gtid_binlog_pos')
  [ "$(sql replica -e "SELECT MASTER_GTID_WAIT('$pos', 600)")" = 0 ] || { say "the replica did not reach $pos"; exit 1; }
}

case "$cmd" in
  stop) stop_node replica; stop_node primary; exit 0 ;;
  wait) wait_replica; exit 0 ;;
  start) ;;
  *) usage >&2; exit 2 ;;
esac

pport=$(node_port primary)
rport=$(node_port replica)
start_node primary --skip-networking=0 --bind-address=127.0.0.1 --port="$pport" \
  --log-bin=binlog --server-id=1 --binlog-format=ROW
start_node replica --skip-networking=0 --bind-address=127.0.0.1 --port="$rport" --server-id=2 --read-only
if [ -z "$(sql replica -e "SHOW SLAVE STATUS")" ]; then
  sql primary -e "CREATE USER IF NOT EXISTS repl@'127.0.0.1' IDENTIFIED BY 'repl-pass';
                  GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1';
                  CREATE DATABASE IF NOT EXISTS $DBNAME CHARACTER SET utf8mb4"
  sql replica -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$pport, MASTER_USER='repl',
                  MASTER_PASSWORD='repl-pass', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE"
fi
wait_replica
echo "--db mariadb://root:@localhost/$DBNAME?socket=$dir/primary/m.sock --db-read mariadb://root:@localhost/$DBNAME?socket=$dir/replica/m.sock"
