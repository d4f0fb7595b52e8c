#!/usr/bin/env bash
# growth.sh: how the figures grow with the group (outside CI). For each size
# (default 24, 100 and 200 stores, one year of history) a demo group is
# loaded into a data dir of its own (`fourscore demo`, timed), then
# anydate.sh (cold store and retention pages, last month and month to date)
# and upload.sh (one store's monthly upload) run on it; the table prints
# each figure per size and its growth against the smallest size, next to
# the growth of the store count. Linear growth in stores reads as the same
# ratio as the stores column; the per-store figures (an upload) should stay
# flat, and so should the generator's memory, measured on its own
# (`fourscore demo --out`, the files only): it writes store by store (the
# load's memory is the MariaDB buffer pool filling). Takes about 25 minutes
# on two cores for the default sizes.
#
# usage: tests/bench/growth.sh [--sizes "24 100 200"] [--years Y] [--bin PATH]
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${FOURSCORE_BIN:-$here/build/fourscore}
sizes="24 100 200"
years=1
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes=$2; shift 2 ;;
        --years) years=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "growth.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

. "$here/tests/bench/lib.sh"
bench_init growth.sh curl mariadb python3

declare -A fig
for n in $sizes; do
    dir="$work/d$n"
    echo "generating $n stores, $years year(s) (the files only, for the generator's memory) ..." >&2
    mkdir -p "$work/gen-$n"
    fig[gen_rss,$n]=$(python3 - "$bin" "$n" "$years" "$work/gen-$n" <<'PY'
import resource, subprocess, sys
b, n, y, out = sys.argv[1:]
subprocess.run([b, 'demo', '--stores', n, '--years', y, '--out', out], check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1))
PY
    ) || { echo "growth.sh: demo --out failed at $n stores" >&2; exit 1; }
    rm -rf "$work/gen-$n"
    echo "loading $n stores, $years year(s) ..." >&2
    t0=$(date +%s.%N)
    "$bin" demo --stores "$n" --years "$years" --data-dir "$dir" >"$work/load-$n.log" 2>&1 ||
        { tail -20 "$work/load-$n.log" >&2; exit 1; }
    fig[load,$n]=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$(date +%s.%N)")
    echo "  anydate ..." >&2
    FOURSCORE_BIN="$bin" "$here/tests/bench/anydate.sh" --data "$dir" >"$work/anydate-$n.txt" 2>&1 ||
        { tail -20 "$work/anydate-$n.txt" >&2; exit 1; }
    fig[store_last,$n]=$(awk '$1 == "store" && $3 == "last" { print $6 }' "$work/anydate-$n.txt")
    fig[store_mtd,$n]=$(awk '$1 == "store" && $3 == "month" { print $7 }' "$work/anydate-$n.txt")
    fig[ret_last,$n]=$(awk '$1 == "retention" && $3 == "last" { print $6 }' "$work/anydate-$n.txt")
    fig[ret_mtd,$n]=$(awk '$1 == "retention" && $3 == "month" { print $7 }' "$work/anydate-$n.txt")
    fig[recv_mtd,$n]=$(awk '$1 == "receivables" && $3 == "month" { print $7 }' "$work/anydate-$n.txt")
    echo "  upload ..." >&2
    FOURSCORE_BIN="$bin" "$here/tests/bench/upload.sh" --data "$dir" >"$work/upload-$n.txt" 2>&1 ||
        { tail -20 "$work/upload-$n.txt" >&2; exit 1; }
    fig[up_first,$n]=$(awk '/first of the new month/ { getline; print $2 }' "$work/upload-$n.txt")
    fig[up_usual,$n]=$(awk '/the usual case/ { getline; print $2; exit }' "$work/upload-$n.txt")
    fig[du,$n]=$(du -sm "$dir" | awk '{ print $1 }')
    rm -rf "$dir"
done

first=${sizes%% *}
printf '\ngrowth: %s year(s) of history; each figure, and its growth against %s stores\n\n' "$years" "$first"
printf '%-44s' "stores"
for n in $sizes; do printf '%16s' "$n"; done
printf '\n'
row() {        # row KEY LABEL
    local key=$1 label=$2 n v b
    printf '%-44s' "$label"
    b=${fig[$key,$first]}
    for n in $sizes; do
        v=${fig[$key,$n]:-?}
        printf '%16s' "$v ($(python3 -c "import sys; a, b = sys.argv[1:]; print(f'{float(a) / max(float(b), 1e-9):.1f}x')" "$v" "$b" 2>/dev/null || echo '?'))"
    done
    printf '\n'
}
for n in $sizes; do fig[stores,$n]=$n; done
row stores "stores (the reference growth)"
row gen_rss "demo generator alone, max RSS (MB)"
row load "demo load (s)"
row du "data dir (MB)"
row store_last "store page, last month, cold (ms)"
row store_mtd "store page, month to date, cold (ms)"
row ret_last "retention page, last month, cold (ms)"
row ret_mtd "retention page, month to date, cold (ms)"
row recv_mtd "receivables page, month to date, cold (ms)"
row up_first "first upload of a new month (ms)"
row up_usual "an upload, the usual case (ms)"
