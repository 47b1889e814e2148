#!/usr/bin/env bash
# Memory checks of the test programs that feed longctx outside input (docs/reliability.md,
# "Memory checks"). A manual check, not part of `./run.sh test`: it takes minutes under the
# sanitizers and about an hour under valgrind on 2 cores.
#   scripts/memory_check.sh asan [PROGRAM...]      AddressSanitizer + UndefinedBehaviorSanitizer
#                                                  (preset asan), plus the fuzz targets' replays
#   scripts/memory_check.sh valgrind [PROGRAM...]  valgrind memcheck of the release build
# PROGRAM: a test program's name (adversarial_test, store_test, ...). Defaults: asan, the readers
# of outside input (below); valgrind, adversarial_test. GTEST_FILTER=... narrows the tests (gtest
# reads it). Every longctx process the tests start is checked as well as the test program.
# Logs: build/memcheck/<mode>/<program>/ (+ <program>.out, the program's own output).
# Exit status 1 when a test failed or any process has a report.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
shift || true
case "$mode" in
  asan) preset=asan; progs=(adversarial_test store_test corpus_test mix_test model_test model_cli_test
                            tokenizer_test cli_test eval_test core_test stats_test) ;;
  valgrind) preset=release; progs=(adversarial_test) ;;
  *) echo "usage: scripts/memory_check.sh asan|valgrind [PROGRAM...]" >&2; exit 2 ;;
esac
[ $# -eq 0 ] || progs=("$@")
if [ "$mode" = valgrind ] && ! command -v valgrind >/dev/null; then
  echo "memory_check: valgrind is not installed (scripts/packages/checks.txt; scripts/setup.sh)" >&2
  exit 2
fi
tree="build/$preset"
bin="$PWD/$tree/src/cli/longctx"
# A wrapper left behind by a killed run (see below) would stop make from relinking the program.
[ -e "$bin.real" ] && mv -f "$bin.real" "$bin"

fuzz_targets=()
if [ "$mode" = asan ]; then
  for t in corpus_reader store packed export_verify safetensors config spm_model tokenizer_json; do
    fuzz_targets+=("fuzz_${t}_replay")
  done
fi
cmake --preset "$preset" >/dev/null
cmake --build "$tree" -j "${LONGCTX_JOBS:-2}" --target longctx "${progs[@]}" "${fuzz_targets[@]}"

out="$PWD/build/memcheck/$mode"
rm -rf "$out"
mkdir -p "$out"

if [ "$mode" = asan ]; then
  # GCC's combined ASan + UBSan runtime writes ASan and LeakSanitizer reports to log_path but
  # UBSan's to stderr only, which the tests capture. So while the tests run, longctx is a wrapper
  # that keeps a copy of its stderr when it holds a report, forwards TERM/INT/HUP and exits as the
  # program did (the same status, or the same signal).
  mv "$bin" "$bin.real"
  trap 'mv -f "$bin.real" "$bin"' EXIT
  cat > "$bin" <<'EOF'
#!/usr/bin/env bash
log=$(mktemp "$LONGCTX_MEMCHECK_LOGS/longctx-stderr.XXXXXX")
set -m  # the program in its own process group, so that INT is not ignored as in a background job
exec 3> >(tee "$log" >&2)
tee_pid=$!
exec 2>/dev/null  # the wrapper's own messages ("Killed" after a kill -9) are not the program's
"$0.real" "$@" <&0 2>&3 &
child=$!
for s in TERM INT HUP; do trap "kill -$s $child 2>/dev/null" "$s"; done
while :; do
  wait "$child"
  rc=$?
  kill -0 "$child" 2>/dev/null || break  # else the wait was cut short by a forwarded signal
done
exec 3>&-
wait "$tee_pid"
if grep -q "runtime error\|Sanitizer" "$log"; then echo "command: $0 $*" >> "$log"; else rm -f "$log"; fi
if [ "$rc" -gt 128 ]; then
  sig=$(kill -l $((rc - 128)))
  trap - "$sig"
  kill -"$sig" $$
fi
exit "$rc"
EOF
  chmod +x "$bin"
fi

failed=0
printf '%-18s %7s %7s %8s %s\n' program passed failed seconds reports
for p in "${progs[@]}"; do
  exe=$(find "$tree/tests" -type f -perm -u+x -name "$p" | head -1)
  [ -n "$exe" ] || { echo "memory_check: no test program '$p' under $tree/tests" >&2; exit 2; }
  logs="$out/$p"
  mkdir -p "$logs"
  start=$(date +%s)
  rc=0
  if [ "$mode" = asan ]; then
    LONGCTX_MEMCHECK_LOGS="$logs" ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1" \
      UBSAN_OPTIONS=print_stacktrace=1 LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" \
      "$exe" > "$logs.out" 2>&1 || rc=$?
    # A log holding only LeakSanitizer's list of suppressions used is not a report.
    for f in "$logs"/asan.*; do
      if [ -e "$f" ] && ! grep -q "ERROR:\|runtime error" "$f"; then rm -f "$f"; fi
    done
    reports=$(find "$logs" -type f | wc -l)
    if grep -q "runtime error\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer" "$logs.out"; then reports=$((reports + 1)); fi
  else
    valgrind --error-exitcode=1 --leak-check=full --trace-children=yes \
      --suppressions="$PWD/tests/valgrind.supp" --log-file="$logs/%p.log" "$exe" > "$logs.out" 2>&1 || rc=$?
    reports=$( (grep -l "ERROR SUMMARY: [1-9]" "$logs"/*.log || true) | wc -l)
  fi
  passed=$( (grep -o '^\[  PASSED  \] [0-9][0-9]*' "$logs.out" || echo 0) | grep -o '[0-9][0-9]*$')
  nfailed=$( (grep -o '^\[  FAILED  \] [0-9][0-9]* test' "$logs.out" || echo "0 test") | grep -o '[0-9][0-9]*')
  printf '%-18s %7s %7s %8s %s\n' "$p" "$passed" "$nfailed" $(( $(date +%s) - start )) "$reports"
  if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ]; then failed=1; fi
done

if [ "$mode" = asan ]; then
  start=$(date +%s)
  rc=0
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" ctest --test-dir "$tree" -R '^fuzz\.' > "$out/fuzz-replays.out" 2>&1 || rc=$?
  n=$(grep -c 'Test *#.*Passed' "$out/fuzz-replays.out" || true)
  bad=$(grep -c 'Test *#.*\*\*\*' "$out/fuzz-replays.out" || true)
  printf '%-18s %7s %7s %8s %s\n' "fuzz replays" "$n" "$bad" $(( $(date +%s) - start )) "-"
  if [ "$rc" -ne 0 ]; then failed=1; fi
fi
echo "logs: $out"
exit "$failed"
