#!/usr/bin/env bash
# Prints each benchmark figure next to its baseline, measured in the same script run so the
# ratios hold on a noisy machine. Usage: bench/run_benchmarks.sh [WORKDIR] [--synth-size 3GB]
# Needs a build (./run.sh build). Reuses WORKDIR (default bench-out) between runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$root/bench-out}"
synth_size="${SYNTH_SIZE:-3GB}"
bin="$root/build/release/src/cli/longctx"
spm="$root/build/release/bench/bench_spm_direct"
mkdir -p "$work"
cores=$(nproc)

# Runs a command under GNU time; sets SECONDS_ and PEAK_MB.
timed() {
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log"; exit 1; }
  read -r SECONDS_ KB < "$work/time.txt"
  PEAK_MB=$((KB / 1024))
}
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.2f", b / 1e6 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

echo "== inputs (in $work)"
[ -f "$work/sample/sample.json" ] || "$bin" -q corpus sample --out "$work/sample"
[ -f "$work/tok.model" ] || "$bin" -q tokenizer train "$work/sample/train" --max-bytes 20MB --out "$work/tok.model"
if [ ! -f "$work/one10mb/doc.txt" ]; then
  mkdir -p "$work/one10mb"
  # One document of 10 MB: sample documents joined (zstdcat gets SIGPIPE when head stops: fine).
  { zstdcat "$work"/sample/train/chunk1/*.zst || true; } | head -c 40000000 | /usr/bin/python3 -c '
import sys, json
out = []
n = 0
for line in sys.stdin:
    try: t = json.loads(line)["text"]
    except Exception: continue
    out.append(t); n += len(t.encode())
    if n >= 10_000_000: break
sys.stdout.write("\n\n".join(out)[:10_000_000].encode("utf-8", "ignore").decode("utf-8", "ignore"))' > "$work/one10mb/doc.txt"
fi
text_bytes=$(awk '/"bytes"/ {gsub(/[^0-9]/, "", $2); print $2; exit}' "$work/sample/sample.json")

echo
echo "== tokenization throughput: SentencePiece library directly (baseline) vs longctx tokenize end to end"
printf "%-34s %10s %12s %12s %10s %8s\n" "run" "MB/s" "MB/s/core" "tokens/s" "vs base" "peak MB"
for input in "sample:$work/sample/train" "one 10 MB document:$work/one10mb"; do
  name="${input%%:*}"; path="${input#*:}"
  base=$("$spm" "$work/tok.model" "$path")
  b_mbps=$(echo "$base" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["mb_per_s"])')
  b_tps=$(echo "$base" | /usr/bin/python3 -c 'import json,sys; print(int(json.load(sys.stdin)["tokens_per_s"]))')
  printf "%-34s %10s %12s %12s %10s %8s\n" "$name: spm library, 1 thread" "$b_mbps" "$b_mbps" "$b_tps" "1.00x" "-"
  for impl in spm fast; do
    for t in 1 2; do
      [ "$t" -le "$cores" ] || continue
      rm -rf "$work/store-$t"
      timed "$bin" -q tokenize "$path" --tokenizer "$work/tok.model" --out "$work/store-$t" --threads "$t" --tokenizer-impl "$impl"
      bytes=$(/usr/bin/python3 -c "import json; print(json.load(open('$work/store-$t/manifest.json'))['counts']['text_bytes'])")
      toks=$(/usr/bin/python3 -c "import json; print(json.load(open('$work/store-$t/manifest.json'))['counts']['tokens'])")
      m=$(mbps "$bytes" "$SECONDS_")
      printf "%-34s %10s %12s %12s %10s %8s\n" "$name: tokenize --impl $impl, $t thr" "$m" "$(awk -v m="$m" -v t="$t" 'BEGIN{printf "%.2f", m/t}')" \
        "$(awk -v a="$toks" -v s="$SECONDS_" 'BEGIN{printf "%d", a/s}')" "$(ratio "$m" "$b_mbps")" "$PEAK_MB"
      eval "m_$t=$m"
    done
    [ "$cores" -ge 2 ] && echo "   $name, $impl: 2 threads / 1 thread = $(ratio "$m_2" "$m_1")"
  done
  rm -rf "$work/store-1" "$work/store-2"
done

echo
echo "== peak memory of tokenize on a synthetic corpus of $synth_size (bounded: independent of corpus size)"
[ -f "$work/synth/synth.json" ] || "$bin" -q corpus synth --size "$synth_size" --out "$work/synth"
rm -rf "$work/store-synth"
timed "$bin" -q tokenize "$work/synth/train" --tokenizer "$work/tok.model" --out "$work/store-synth"
sbytes=$(/usr/bin/python3 -c "import json; print(json.load(open('$work/store-synth/manifest.json'))['counts']['text_bytes'])")
echo "synthetic $synth_size: $(mbps "$sbytes" "$SECONDS_") MB/s end to end, peak RSS $PEAK_MB MB (target < 1024 MB)"
rm -rf "$work/store-synth"
