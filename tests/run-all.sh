#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run) and README's Quick start gives it:
#   1. installs the Debian packages it needs (tools/install-deps.sh)
#   2. builds with warnings as errors and runs every ctest test: unit (shellcheck
#      of the scripts included), netns (root), interop (root); with CI=true
#      (.ci/run) a skipped test fails the run
#   3. builds the unit tests again under AddressSanitizer + UBSan and runs them
#   4. builds the data plane's tests under ThreadSanitizer and runs them: the
#      SA table's snapshots, the SPSC rings, both pump threads under traffic;
#      and IKE's crypto pool (IKE_SA_INIT keys computed on other threads)
#   5. builds the libFuzzer targets with clang-16, replays every kept case and
#      fuzzes each target for FUZZ_SECONDS (default 15), one per core
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-15}
started=$(date +%s)

step() { printf '\n==== %s (at %d s)\n' "$*" $(($(date +%s) - started)); }

step "dependencies"
bash tools/install-deps.sh

step "build (warnings are errors)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMESH_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

step "ctest: unit, netns, interop"
ctest_log=$(mktemp)
# -j: the unit tests run side by side; every netns and interop test is
# RUN_SERIAL, so it still runs alone.
ctest --test-dir build -j"$jobs" --output-on-failure | tee "$ctest_log"
# A netns or interop test exits 77 (a skip) when it misses root or a tool;
# CI has both, so there a skip hides a broken machine or test (lab_skip
# fails by itself under CI=true; this also catches any other skip).
if [[ ${CI:-} == true ]] && grep -q -- '\*\*\*Skipped\|Not Run' "$ctest_log"; then
  grep -- '\*\*\*Skipped\|Not Run' "$ctest_log" >&2
  echo "FAIL: CI=true and ctest skipped the tests above" >&2
  exit 1
fi
rm -f "$ctest_log"

step "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMESH_SANITIZE=ON -DMESH_WERROR=ON >/dev/null
# mesh-site and its man pages too: unit.import-routeros runs the binary on RouterOS exports.
cmake --build build-asan -j"$jobs" --target test_net test_gre test_tunnel test_ike test_routing test_tools mesh-site man_pages
ctest --test-dir build-asan -L unit -E shellcheck -j"$jobs" --output-on-failure

step "data plane and IKE's crypto pool under ThreadSanitizer (SA table snapshots, SPSC rings, both pump threads)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMESH_TSAN=ON -DMESH_WERROR=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target test_tunnel test_ike
# Every race is a failure; the whole binary takes about a minute under TSan.
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" timeout -k 10 600 build-tsan/tests/tunnel/test_tunnel
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" timeout -k 10 600 build-tsan/tests/ike/test_ike -tc='crypto pool*'

step "fuzzing (libFuzzer, ${fuzz_seconds}s per target, $jobs at a time)"
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-16 -DMESH_FUZZ=ON -DMESH_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
# fuzz_target FUZZER: replays its kept cases, then fuzzes it; its report comes
# out in one piece, as targets run side by side (one core each).
fuzz_target() {
  local fuzzer=$1 name kept work report
  name=$(basename "$fuzzer")
  kept=tests/fuzz/corpus/$name
  work=$(mktemp -d)
  cp -r "$kept"/. "$work"/ 2>/dev/null || true
  report="-- $name: replaying $(find "$kept" -type f 2>/dev/null | wc -l) kept case(s), then fuzzing"
  if ! "$fuzzer" -max_total_time="$fuzz_seconds" -artifact_prefix="$work/" -print_final_stats=1 "$work" 2>"$work.log"; then
    printf '%s\n%s\nFAIL: %s found a crash; keep the case: cp %s/crash-* %s/\n' \
      "$report" "$(tail -40 "$work.log")" "$name" "$work" "$kept" >&2
    return 1
  fi
  printf '%s\n%s\n' "$report" "$(grep -E 'stat::number_of_executed_units|cov:' "$work.log" | tail -2)"
  rm -rf "$work" "$work.log"
}
export -f fuzz_target
export fuzz_seconds
# shellcheck disable=SC2016 # $1 is bash -c's, not this shell's
printf '%s\n' build-fuzz/tests/fuzz/fuzz_* | xargs -P "$jobs" -I{} bash -c 'fuzz_target "$1"' _ {}

step "all tests passed"
