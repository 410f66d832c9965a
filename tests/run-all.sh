#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run) and README's Quick start gives it:
#   1. installs the Debian packages it needs (tools/install-deps.sh)
#   2. builds and runs every ctest test: unit, netns (root), interop (root)
#   3. builds the unit tests again under AddressSanitizer + UBSan and runs them
#   4. builds the libFuzzer targets with clang-16, replays every kept case and
#      fuzzes each target for FUZZ_SECONDS (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-30}
started=$(date +%s)

step() { printf '\n==== %s (at %d s)\n' "$*" $(($(date +%s) - started)); }

step "dependencies"
bash tools/install-deps.sh

step "build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

step "ctest: unit, netns, interop"
ctest --test-dir build --output-on-failure

step "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMESH_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" --target test_gre test_tunnel test_ike test_routing test_tools
ctest --test-dir build-asan -L unit --output-on-failure

step "fuzzing (libFuzzer, ${fuzz_seconds}s per target)"
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-16 -DMESH_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
for fuzzer in build-fuzz/tests/fuzz/fuzz_*; do
  name=$(basename "$fuzzer")
  kept=tests/fuzz/corpus/$name
  work=$(mktemp -d)
  cp -r "$kept"/. "$work"/ 2>/dev/null || true
  echo "-- $name: replaying $(ls "$kept" 2>/dev/null | wc -l) kept case(s), then fuzzing"
  if ! "$fuzzer" -max_total_time="$fuzz_seconds" -artifact_prefix="$work/" -print_final_stats=1 "$work" 2>"$work.log"; then
    tail -40 "$work.log"
    echo "FAIL: $name found a crash; keep the case: cp $work/crash-* $kept/" >&2
    exit 1
  fi
  grep -E 'stat::number_of_executed_units|cov:' "$work.log" | tail -2
  rm -rf "$work" "$work.log"
done

step "all tests passed"
