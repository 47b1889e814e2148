#!/usr/bin/env bash
# The two commands of the README:
#   ./run.sh demo   set up, build, and run the main job on the built-in sample corpus
#   ./run.sh test   set up, build, and run every test
# Other verbs: build, bench, fuzz [SECONDS] (every libFuzzer target for SECONDS each, default 60;
# fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")"
verb="${1:-}"
[ -n "$verb" ] || { echo "usage: ./run.sh demo|test|build|bench|fuzz [SECONDS]" >&2; exit 2; }
jobs="${LONGCTX_JOBS:-$(nproc)}"

build() {
  scripts/setup.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$jobs"
}

case "$verb" in
  build) build ;;
  demo)  build; scripts/demo.sh "${2:-demo-out}" ;;
  test)  build; rm -rf build/release/test-tmp; ctest --preset release -j "$jobs" ;;
  bench) build; bench/run_benchmarks.sh "${@:2}" ;;
  fuzz)  scripts/setup.sh; fuzz/run_fuzzers.sh "${2:-60}" ;;
  *) echo "unknown verb '$verb' (expected demo, test, build, bench or fuzz)" >&2; exit 2 ;;
esac
