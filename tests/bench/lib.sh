# lib.sh: what the benchmarks that serve a data dir share. Source it after
# setting $bin; bench_init checks the tools and makes $work; bench_serve
# (with $data and $work set) starts `fourscore serve` on the data dir, signs
# in as an admin of its own, and gives sql() on the local MariaDB. Sets
# $server_pid, $url, $cookie; exits with a message on failure.
#   bench_init NAME TOOL...
#   bench_serve NAME [ENV=VALUE...]   (NAME: the calling script, for messages)

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
