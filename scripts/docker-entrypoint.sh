#!/bin/sh
# The container's entrypoint: wait for the database (FOURSCORE_DB_WAIT
# seconds, default 120), apply pending migrations, then run the command
# (default `serve`, which also creates the first admin from
# FOURSCORE_ADMIN_PASSWORD). Runs the same way outside a container, which is
# how the test suite checks it.
set -eu
bin=${FOURSCORE_BIN:-fourscore}
wait_s=${FOURSCORE_DB_WAIT:-120}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
waited=0
until "$bin" migrate >"$log" 2>&1; do
  if [ "$waited" -ge "$wait_s" ]; then
    echo "fourscore: the database did not become ready in ${wait_s} s:" >&2
    cat "$log" >&2
    exit 1
  fi
  echo "waiting for the database (${waited} s) ..." >&2
  sleep 2
  waited=$((waited + 2))
done
cat "$log" >&2
rm -f "$log"
trap - EXIT
[ $# -gt 0 ] || set -- serve
exec "$bin" "$@"
