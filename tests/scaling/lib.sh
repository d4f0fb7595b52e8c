# lib.sh: what the scaling scripts share (sourced, not run): private mariadbd
# servers under one directory, each in DIR/NAME with its socket DIR/NAME/m.sock.
# The caller sets $dir (absolute) and $me (its name, for messages) first.
# SCALING_BUFFER_POOL: InnoDB buffer pool of each server (default 64M; the
# benchmark uses more).

user_opt=(); [ "$(id -u)" = 0 ] && user_opt=(--user=root)

say() { printf '%s: %s\n' "$me" "$*" >&2; }
# sql NODE [client options...]: the mariadb client on that server, tab-separated, raw
sql() { local node=$1; shift; mariadb --no-defaults -uroot --socket="$dir/$node/m.sock" -N -B -r "$@"; }

# start_node NAME [mariadbd options...]: create the server on first use, start
# it unless it runs, and wait until it answers
start_node() {
  local node=$1; shift
  local d="$dir/$node"
  mkdir -p "$d/tmp"
  if [ ! -d "$d/data/mysql" ]; then
    mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$d/data" \
      --auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1 ||
      { say "mariadb-install-db failed for $node (see $d/install.log)"; exit 1; }
  fi
  if [ -S "$d/m.sock" ] && sql "$node" -e 'SELECT 1' >/dev/null 2>&1; then say "$node already runs"; return; fi
  mariadbd --no-defaults "${user_opt[@]}" --datadir="$d/data" --socket="$d/m.sock" --skip-networking \
    --skip-log-bin --innodb-log-file-size=64M --innodb-buffer-pool-size="${SCALING_BUFFER_POOL:-64M}" \
    --pid-file="$d/m.pid" --log-error="$d/m.err" --tmpdir="$d/tmp" "$@" >/dev/null 2>&1 &
  for _ in $(seq 1 300); do
    sql "$node" -e 'SELECT 1' >/dev/null 2>&1 && return
    sleep 0.1
  done
  say "$node did not start:"; tail -20 "$d/m.err" >&2; exit 1
}

stop_node() {
  local d="$dir/$1"
  [ -f "$d/m.pid" ] || return 0
  local pid; pid=$(cat "$d/m.pid")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  say "$1 (pid $pid) did not stop"
}

# free_port [ADDR]: a TCP port nobody listens on (on any address)
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    [ -z "$(ss -ltnH "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return; }
  done
}

# node_port NAME: the TCP port of that server, chosen free once and kept in DIR/NAME/port
node_port() {
  local f="$dir/$1/port"
  mkdir -p "$dir/$1"
  [ -f "$f" ] || free_port >"$f"
  cat "$f"
}
