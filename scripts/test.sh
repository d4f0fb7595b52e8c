#!/usr/bin/env bash
# The whole test suite, as the README's second command and CI run it:
#   1. install what is missing (scripts/deps.sh)
#   2. build twice: build/ (optimised, what users run) and build-asan/
#      (AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer)
#   3. unit tests (ctest) on the sanitizer build
#   4. the source tree's checks (tests/tree: layers, include cycles, file
#      sizes) and the integration tests (node --test) against the sanitizer
#      build's server, each starting its own private MariaDB and server on
#      loopback
#   5. the dashboards in headless Chromium against the optimised build
#   6. the CSV fuzzer for a bounded time (clang, libFuzzer, ASan)
#   7. the deployment files: docker-compose config, the entrypoint script
# and closes with one line "N passed, N failed".
# Options: --quick (skip the browser and the fuzzer), --no-deps.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
quick=0; deps=1
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --no-deps) deps=0 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown option $a (see --help)" >&2; exit 2 ;;
  esac
done

passed=0; failed=0
# Every temporary dir of the run (the tests' data dirs, their MariaDBs) lies
# under one dir of its own; whatever still runs from it at the end is stopped,
# so no server outlives the suite, and a stage that hangs is cut off at its
# limit and counted as failed instead of holding the run.
run_tmp=$(mktemp -d /tmp/fourscore-test.XXXXXX)
export TMPDIR=$run_tmp
reap() {
  pkill -TERM -f -- "$run_tmp" 2>/dev/null; sleep 1; pkill -KILL -f -- "$run_tmp" 2>/dev/null
  rm -rf -- "$run_tmp"
}
trap reap EXIT
step() { printf '\n==== %s\n' "$*"; }
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
jobs=$(nproc 2>/dev/null || echo 2)

if [ $deps = 1 ]; then
  step "dependencies"
  scripts/deps.sh || { echo "scripts/deps.sh failed"; exit 1; }
fi

step "build (build/ and build-asan/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOURSCORE_WERROR=ON >/dev/null &&
  cmake --build build -j"$jobs" 2>&1 | grep -Ev '^\[|^-- ' ; rc1=${PIPESTATUS[0]}
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFOURSCORE_SANITIZE=ON -DFOURSCORE_WERROR=ON >/dev/null &&
  cmake --build build-asan -j"$jobs" 2>&1 | grep -Ev '^\[|^-- ' ; rc2=${PIPESTATUS[0]}
if [ "$rc1" != 0 ] || [ "$rc2" != 0 ]; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export FOURSCORE_PLUGIN_DIR="$top/build-asan/plugins"

step "unit tests (ctest, sanitizer build)"
ctest --test-dir build-asan --output-on-failure --timeout 600 -j"$jobs" > build-asan/ctest.log 2>&1
cat build-asan/ctest.log | grep -E "^ *[0-9]+/[0-9]+ Test|tests passed|Failed|\*\*\*|not ok" || true
t=$(grep -Eo 'out of [0-9]+' build-asan/ctest.log | grep -Eo '[0-9]+' | tail -1); t=${t:-0}
f=$(grep -Eo '[0-9]+ tests failed' build-asan/ctest.log | grep -Eo '^[0-9]+' | tail -1); f=${f:-0}
if ! grep -q 'tests passed' build-asan/ctest.log; then cat build-asan/ctest.log; f=$((f + 1)); fi
count $((t - f)) "$f"

run_node() {   # run_node LABEL BIN LIMIT_SECONDS FILES...
  local label=$1 binary=$2 limit=$3; shift 3
  local log="build-asan/$label.log"
  # each file's result is printed as it comes (tee), so a log shows how far a run got;
  # a test may take 5 min at most (TEST_TIMEOUT_MS), and a file whose tests are done exits even if
  # something it started (a server left by a failed test) still holds it open
  FOURSCORE_BIN="$binary" timeout -k 30 "$limit" node --test --test-concurrency=2 --test-timeout="${TEST_TIMEOUT_MS:-300000}" --test-force-exit "$@" 2>&1 |
    tee "$log" | grep --line-buffered -E "^(not )?ok [0-9]+ "
  local rc=${PIPESTATUS[0]}
  grep -E "^# (tests|pass|fail)" "$log" || true
  local p f c
  p=$(grep -E '^# pass ' "$log" | awk '{print $3}' | tail -1); f=$(grep -E '^# fail ' "$log" | awk '{print $3}' | tail -1)
  p=${p:-0}; f=${f:-1}
  # a test or a whole file cut off by the time limit is "cancelled": a failure too
  c=$(grep -E '^# cancelled ' "$log" | awk '{print $3}' | tail -1); f=$((f + ${c:-0}))
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "not ok - $label did not finish within $limit s (stopped; full log: $log)"; tail -60 "$log"; f=$((f + 1))
  fi
  if [ "$f" != 0 ]; then
    echo "---- failures in $label (full log: $log)"
    awk '/^not ok|^ *not ok/{show=1} show{print} /^ *\.\.\.$/{show=0}' "$log" | head -400
  fi
  count "$p" "$f"
  pkill -KILL -f -- "$run_tmp/" 2>/dev/null || true   # nothing a stage started outlives it
}

step "source tree (layers, docs) and integration tests (real MariaDB, real HTTP, sanitizer build)"
mapfile -t itests < <(ls tests/tree/*.test.mjs tests/integration/*.test.mjs 2>/dev/null)
if [ ${#itests[@]} -gt 0 ]; then run_node integration "$top/build-asan/fourscore" 1200 "${itests[@]}"; fi

if [ $quick = 0 ]; then
  mapfile -t wtests < <(ls tests/web/*.test.mjs 2>/dev/null)
  if [ ${#wtests[@]} -gt 0 ]; then
    step "dashboards in headless Chromium"
    # one file holds every page case (one server, one browser): its time is the stage's
    FOURSCORE_PLUGIN_DIR="$top/build/plugins" TEST_TIMEOUT_MS=1080000 run_node web "$top/build/fourscore" 1200 "${wtests[@]}"
  fi

  if command -v clang >/dev/null && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
    step "fuzzing (libFuzzer, bounded)"
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DFOURSCORE_FUZZ=ON >/dev/null
    for f in tests/fuzz/fuzz_*.c; do
      name=$(basename "$f" .c); corpus="tests/fuzz/corpus/${name#fuzz_}"
      cmake --build build-fuzz -j"$jobs" --target "$name" > "build-fuzz/$name.build.log" 2>&1 ||
        { echo "not ok - $name does not build"; grep -E "error" "build-fuzz/$name.build.log" | head -20; count 0 1; continue; }
      work=$(mktemp -d); [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
      if [ -x "build-fuzz/$name" ] && "build-fuzz/$name" -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 \
           -artifact_prefix="build-fuzz/$name-" "$work" > "build-fuzz/$name.log" 2>&1; then
        echo "ok - $name ran ${FUZZ_SECONDS:-60} s with no crash"; count 1 0
      else
        echo "not ok - $name (log: build-fuzz/$name.log)"; tail -40 "build-fuzz/$name.log"; count 0 1
      fi
      rm -rf "$work"
    done
  fi
fi

if [ -f docker-compose.yml ] && command -v docker-compose >/dev/null; then
  step "deployment files"
  if docker-compose -f docker-compose.yml --env-file .env.example config -q 2>build-asan/compose.log; then
    echo "ok - docker-compose.yml is valid"; count 1 0
  else
    echo "not ok - docker-compose config"; cat build-asan/compose.log; count 0 1
  fi
fi

printf '\n%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
