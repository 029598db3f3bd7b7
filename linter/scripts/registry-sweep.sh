#!/usr/bin/env bash
# Lints every crate source in the local cargo registry with archlint and reports panics,
# aborts, timeouts and slow crates. Nothing is built or downloaded: the crates are the ones
# cargo has already unpacked (~/.cargo/registry/src/*/*).
#
# usage: linter/scripts/registry-sweep.sh [--bin PATH] [--registry DIR] [--timeout SECS]
#                                         [--slow SECS] [--limit N] [--out DIR]
#   --bin       cargo-archlint to run (default: target/release/cargo-archlint, built if missing)
#   --registry  where the unpacked crates are (default: ${CARGO_HOME:-~/.cargo}/registry/src)
#   --timeout   seconds one crate may take before it counts as a timeout (default 60)
#   --slow      seconds over which a crate is listed as slow (default 5)
#   --limit     lint only the first N crates, in name order (default: all)
#   --out       directory for per-crate stderr of the failures (default: a temporary one)
#
# Exit status: 0 when no crate panicked, aborted or timed out, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=target/release/cargo-archlint
registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
timeout_secs=60
slow_secs=5
limit=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --registry) registry=$2; shift 2 ;;
    --timeout) timeout_secs=$2; shift 2 ;;
    --slow) slow_secs=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
if [ ! -x "$bin" ]; then
  cargo build --release -p archlint >&2
fi
out=${out:-$(mktemp -d /tmp/archlint-sweep.XXXXXX)}
mkdir -p "$out"

mapfile -t crates < <(find "$registry" -mindepth 2 -maxdepth 2 -type d -exec test -f '{}/Cargo.toml' ';' -print | sort)
if [ "$limit" -gt 0 ] && [ "${#crates[@]}" -gt "$limit" ]; then
  crates=("${crates[@]:0:$limit}")
fi

total=0 clean=0 findings=0 refused=0 panics=0 aborts=0 timeouts=0
lines=0
times="$out/times.tsv"
: > "$times"
started=$(date +%s%N)
for dir in "${crates[@]}"; do
  name=$(basename "$dir")
  total=$((total + 1))
  lines=$((lines + $(find "$dir" -name '*.rs' -type f -exec cat {} + 2>/dev/null | wc -l)))
  start=$(date +%s%N)
  set +e
  timeout --kill-after=5 "$timeout_secs" "$bin" check --no-cache --manifest-path "$dir" --format json \
    > /dev/null 2> "$out/$name.stderr"
  code=$?
  set -e
  took=$(awk -v ns=$(( $(date +%s%N) - start )) 'BEGIN { printf "%.3f", ns / 1e9 }')
  printf '%s\t%s\t%s\n' "$took" "$code" "$name" >> "$times"
  case $code in
    0) clean=$((clean + 1)); rm -f "$out/$name.stderr" ;;
    1) findings=$((findings + 1)); rm -f "$out/$name.stderr" ;;
    2) refused=$((refused + 1)) ;;
    101) panics=$((panics + 1)); echo "PANIC   $name ($out/$name.stderr)" ;;
    124|137) timeouts=$((timeouts + 1)); echo "TIMEOUT $name (over ${timeout_secs}s)" ;;
    *) aborts=$((aborts + 1)); echo "ABORT   $name: exit $code ($out/$name.stderr)" ;;
  esac
  if grep -q "panicked" "$out/$name.stderr" 2>/dev/null && [ "$code" != 101 ]; then
    panics=$((panics + 1)); echo "PANIC   $name (exit $code, $out/$name.stderr)"
  fi
done
elapsed=$(( ($(date +%s%N) - started) / 1000000000 ))

echo
echo "crates: $total ($lines lines of Rust) in $elapsed s"
echo "exit 0 (clean): $clean   exit 1 (findings): $findings   exit 2 (refused, see $out): $refused"
echo "panics: $panics   aborts: $aborts   timeouts (>${timeout_secs}s): $timeouts"
echo "slow (>${slow_secs}s):"
sort -rn "$times" | awk -F'\t' -v slow="$slow_secs" '$1 > slow { printf "  %6.2f s  %s\n", $1, $3 }'
echo "slowest five:"
sort -rn "$times" | head -5 | awk -F'\t' '{ printf "  %6.2f s  %s\n", $1, $3 }'
[ "$panics" -eq 0 ] && [ "$aborts" -eq 0 ] && [ "$timeouts" -eq 0 ]
