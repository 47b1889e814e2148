#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz) and runs each for SECONDS (default 60), one after the
# other, on a copy of its seed corpus (fuzz/corpus/<target>, never modified) plus what it finds.
#   fuzz/run_fuzzers.sh [SECONDS] [TARGET...]
# Output under build/fuzz/runs/<target>/: log.txt (libFuzzer's log; the last line has cov:, ft:
# and exec/s), corpus/ (the grown corpus) and crash-*/leak-*/timeout-* files for findings.
# Exit status 1 when any target found something. LONGCTX_FUZZ_JOBS=N runs N targets at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
all=(corpus_reader store packed export_verify safetensors config spm_model tokenizer_json)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
case "$seconds" in ''|*[!0-9]*) echo "run_fuzzers: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;; esac

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "${LONGCTX_JOBS:-$(nproc)}"

run_one() {
  local t="$1" dir="build/fuzz/runs/$1"
  rm -rf "$dir"; mkdir -p "$dir/corpus"
  cp fuzz/corpus/"$t"/* "$dir/corpus/"
  local dict=() root="$PWD"
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="$root/fuzz/dict/$t.dict")
  # -rss_limit_mb: no input may take more than 2 GB; -timeout: nor more than 10 s.
  ( cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$root/build/fuzz/fuzz/fuzz_$t" corpus "${dict[@]}" -max_total_time="$seconds" \
      -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 > log.txt 2>&1 )
}

failed=()
jobs_max="${LONGCTX_FUZZ_JOBS:-1}"
pids=(); names=()
for t in "${targets[@]}"; do
  [ -d "fuzz/corpus/$t" ] || { echo "run_fuzzers: unknown target '$t' (expected one of: ${all[*]})" >&2; exit 2; }
  echo "fuzz: $t for ${seconds}s -> build/fuzz/runs/$t/log.txt"
  run_one "$t" & pids+=($!); names+=("$t")
  if [ ${#pids[@]} -ge "$jobs_max" ]; then
    wait "${pids[0]}" || failed+=("${names[0]}")
    pids=("${pids[@]:1}"); names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done

printf '\n%-16s %10s %10s %12s %s\n' target cov ft execs result
for t in "${targets[@]}"; do
  log="build/fuzz/runs/$t/log.txt"
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | cut -d' ' -f2)
  res=ok; [[ " ${failed[*]-} " == *" $t "* ]] && res="FINDING (see $log)"
  printf '%-16s %10s %10s %12s %s\n' "$t" "${cov:-?}" "${ft:-?}" "${execs:-?}" "$res"
done
[ ${#failed[@]} -eq 0 ]
