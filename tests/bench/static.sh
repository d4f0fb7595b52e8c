#!/bin/sh
# static.sh: requests per second for two static files, a 10 KB stylesheet
# and the app's own web/index.html (a few hundred bytes), Fourscore against
# nginx (Debian's nginx-light), both on loopback, serving the same web root,
# both writing one access line per request to a file, both driven by the same
# wrk command. Both servers run side by side and, file by file, the wrk runs
# alternate between them (ROUNDS rounds), so a burst of load from elsewhere
# on the machine hits both alike; a table per file shows every round and the
# medians, and the ratio of the medians (target: Fourscore >= 1.0x nginx for
# each file). Not part of the test suite.
#
#   tests/bench/static.sh                 # wrk -t2 -c50 -d10s, 3 rounds
#   DURATION=30s CONNECTIONS=60 ROUNDS=5 tests/bench/static.sh
#
# Fourscore's per-address connection limit (FOURSCORE_MAX_PER_IP, 64) caps
# CONNECTIONS unless raised.
#
# The binary is FOURSCORE_BIN, else build/fourscore of this checkout (use a
# release build: the sanitizer build measures the sanitizers).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${FOURSCORE_BIN:-$ROOT/build/fourscore}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
FS_PORT=${FS_PORT:-18480}
NGINX_PORT=${NGINX_PORT:-18481}

for tool in wrk nginx; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "static.sh: $tool is not installed" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BIN" ] || { echo "static.sh: no fourscore binary at $BIN (build first, or set FOURSCORE_BIN)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fs-bench-static-XXXXXX")
FS_PID=''
NGINX_PID=''
cleanup() {
    [ -n "$FS_PID" ] && kill -TERM "$FS_PID" 2>/dev/null && wait "$FS_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
    [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# --- the web root: a 10 KB file (10240 bytes of text) and the app's index.html ---
mkdir -p "$WORK/www" "$WORK/nginx" "$WORK/data"
chmod 755 "$WORK"    # nginx workers run as an unprivileged user when started as root
head -c 7680 /dev/urandom | base64 -w 76 | head -c 10240 > "$WORK/www/bench.css"
cp "$ROOT/web/index.html" "$WORK/www/index.html"
chmod 644 "$WORK/www/bench.css" "$WORK/www/index.html"
FILES='bench.css index.html'
for f in $FILES; do echo "file: /$f, $(wc -c < "$WORK/www/$f") bytes"; done
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds per file; $(nproc) cores"

wait_http() {    # url: wait until it answers 200
    i=0
    while [ $i -lt 1800 ]; do    # up to 3 minutes: the first start creates a database
        code=$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true)
        [ "$code" = 200 ] && return 0
        i=$((i + 1))
        sleep 0.1
    done
    echo "static.sh: $1 did not answer" >&2
    return 1
}

rps() {          # url -> requests/s of one wrk run
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$1" > "$WORK/wrk.out"
    if grep -q 'Non-2xx' "$WORK/wrk.out"; then
        echo "static.sh: non-2xx answers from $1:" >&2
        cat "$WORK/wrk.out" >&2
        exit 1
    fi
    awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.out"
}

median() {       # numbers on stdin -> their median
    sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# --- Fourscore (its private MariaDB in the temp dir; the access log to a file) ---
"$BIN" serve --listen "127.0.0.1:$FS_PORT" --data-dir "$WORK/data" --web-root "$WORK/www" \
    > "$WORK/fourscore.log" 2> "$WORK/fourscore.err" &
FS_PID=$!

# --- nginx (private prefix and config) ---
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@WEBROOT@|$WORK/www|g" \
    "$HERE/nginx-static.conf.in" > "$WORK/nginx/nginx.conf"
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!

FS_BASE="http://127.0.0.1:$FS_PORT"
NGINX_BASE="http://127.0.0.1:$NGINX_PORT"
wait_http "$FS_BASE/bench.css"
wait_http "$NGINX_BASE/bench.css"
for f in $FILES; do
    [ "$(curl -s "$FS_BASE/$f" | cksum)" = "$(cksum < "$WORK/www/$f")" ] || { echo "static.sh: fourscore served other bytes for /$f" >&2; exit 1; }
    [ "$(curl -s "$NGINX_BASE/$f" | cksum)" = "$(cksum < "$WORK/www/$f")" ] || { echo "static.sh: nginx served other bytes for /$f" >&2; exit 1; }
done

# file by file: warm-up, then alternate; the tables go to $WORK/table
: > "$WORK/table"
: > "$WORK/ratios"
for f in $FILES; do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$FS_BASE/$f" >/dev/null
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$NGINX_BASE/$f" >/dev/null
    : > "$WORK/fs.rps"
    : > "$WORK/nginx.rps"
    printf '\n/%s\n%-8s %14s %14s\n' "$f" round 'fourscore r/s' 'nginx r/s' >> "$WORK/table"
    round=1
    while [ $round -le "$ROUNDS" ]; do
        a=$(rps "$FS_BASE/$f")
        b=$(rps "$NGINX_BASE/$f")
        echo "$a" >> "$WORK/fs.rps"
        echo "$b" >> "$WORK/nginx.rps"
        printf '%-8s %14.0f %14.0f\n' "$round" "$a" "$b" >> "$WORK/table"
        round=$((round + 1))
    done
    FS_RPS=$(median < "$WORK/fs.rps")
    NGINX_RPS=$(median < "$WORK/nginx.rps")
    RATIO=$(awk -v a="$FS_RPS" -v b="$NGINX_RPS" 'BEGIN { printf "%.2f", a / b }')
    printf '%-8s %14.0f %14.0f\n' median "$FS_RPS" "$NGINX_RPS" >> "$WORK/table"
    printf 'ratio (fourscore / nginx, medians): %sx\n' "$RATIO" >> "$WORK/table"
    echo "/$f $RATIO" >> "$WORK/ratios"
done

kill -TERM "$FS_PID"
wait "$FS_PID" || { echo "static.sh: fourscore did not stop cleanly" >&2; cat "$WORK/fourscore.err" >&2; }
FS_PID=''
kill -QUIT "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null || true
NGINX_PID=''

# --- the tables ---
cat "$WORK/table"
echo
if awk '$2 < 1.0 { bad = 1 } END { exit bad }' "$WORK/ratios"; then
    echo "target met: fourscore >= 1.0x nginx for every file"
else
    echo "below target: fourscore < 1.0x nginx for $(awk '$2 < 1.0 { printf "%s%s", sep, $1; sep = ", " }' "$WORK/ratios")"
fi
