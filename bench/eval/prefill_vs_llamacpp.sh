#!/usr/bin/env bash
# Evaluation benchmarks (docs/evaluation.md "Figures measured"), each figure beside its baseline in
# one script run:
#  1. prefill tokens/s at 4K and 16K tokens of a ~90M LLaMA model on CPU: our engine
#     (`longctx generate --prompt-ids ... --max-new-tokens 1`) and llama.cpp (node-llama-cpp
#     3.21.1's prebuilt build) on our own GGUF export (F32) of the same weights, same token ids,
#     same threads, batches of 512;
#  2. time per needle cell (`longctx needle`, 50 greedy tokens) at 4K and 16K on that model;
#  3. `longctx serve` requests/s on loopback (bench_serve: 1-token completions on a tiny model).
# Usage: bench/eval/prefill_vs_llamacpp.sh [WORKDIR] (THREADS=2 ROUNDS=2 LENGTHS="4096 16384")
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$root/bench-out/eval}"
threads="${THREADS:-2}"
rounds="${ROUNDS:-2}"
lengths="${LENGTHS:-4096 16384}"
bin="$root/build/release/src/cli/longctx"
node_dir="$root/bench/eval/llamacpp_node"
mkdir -p "$work"

# A SentencePiece tokenizer (6000 pieces) so that llama.cpp can load the GGUF, and a ~90M model:
# hidden 768, 12 layers, 12 heads, SwiGLU 2048, vocab 6000, untied (84.9M + 9.2M parameters).
if [ ! -f "$work/tok.model" ]; then
  zcat /usr/share/debian-reference/debian-reference.en.txt.gz > "$work/text.txt"
  "$bin" -q tokenizer train "$work/text.txt" --vocab-size 6000 --out "$work/tok.model"
fi
if [ ! -f "$work/m90/config.json" ]; then
  cat > "$work/config.json" <<'JSON'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 6000, "hidden_size": 768,
 "intermediate_size": 2048, "num_hidden_layers": 12, "num_attention_heads": 12, "num_key_value_heads": 12,
 "max_position_embeddings": 32768, "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": false,
 "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
JSON
  "$bin" -q model init --config "$work/config.json" --seed 1 --out "$work/m90"
  cp "$work/tok.model" "$work/m90/tokenizer.model"
fi
[ -f "$work/m90.gguf" ] || "$bin" -q model export-gguf "$work/m90" --type f32 --out "$work/m90.gguf"
"$bin" model info "$work/m90" | head -3

if [ ! -d "$node_dir/node_modules/node-llama-cpp" ]; then
  (cd "$node_dir" && npm install --no-audit --no-fund --silent)
fi

echo "== prefill tokens/s, ${threads} threads, best of ${rounds}"
for n in $lengths; do
  ids=$(awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "%s%d", (i ? "," : ""), 3 + (i * 7919) % 5990 }')
  best=0
  for r in $(seq "$rounds"); do
    line=$("$bin" generate --model "$work/m90" --prompt-ids "$ids" --max-new-tokens 1 --print-ids --threads "$threads" \
             --prefill-chunk 512 2>&1 >/dev/null | grep '^prompt')
    tps=$(echo "$line" | sed -E 's/.*\(([0-9.]+) tok\/s\), generated.*/\1/')
    best=$(awk -v a="$best" -v b="$tps" 'BEGIN { print (b > a ? b : a) }')
  done
  ref=$(node "$node_dir/prefill.mjs" "$work/m90.gguf" "$n" "$threads" "$rounds")
  ref_tps=$(echo "$ref" | sed -E 's/.*"tokens_per_s":([0-9.]+).*/\1/')
  printf '%6d tokens: longctx %8.1f tok/s | llama.cpp %8.1f tok/s | ratio %.2fx\n' "$n" "$best" "$ref_tps" \
    "$(awk -v a="$best" -v b="$ref_tps" 'BEGIN { print a / b }')"
done

echo "== time per needle cell (one cell per length, 50 greedy tokens, ${threads} threads)"
rm -rf "$work/needle"
"$bin" -q needle --model "$work/m90" --lengths "$(echo "$lengths" | tr ' ' ',')" --depths 50% --threads "$threads" \
  --out "$work/needle" > /dev/null
tail -n +2 "$work/needle/results.csv" | awk -F, '{ printf "%6d tokens: %.2f s per cell (prompt %d tokens)\n", $1, $8, $3 }'

echo "== longctx serve requests/s on loopback (1-token completions, tiny model)"
if [ ! -f "$work/tiny/config.json" ]; then
  cat > "$work/tiny.json" <<'JSON'
{"vocab_size": 6000, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
 "num_key_value_heads": 4, "max_position_embeddings": 1024, "bos_token_id": 1, "eos_token_id": 2}
JSON
  "$bin" -q model init --config "$work/tiny.json" --seed 1 --out "$work/tiny"
  cp "$work/tok.model" "$work/tiny/tokenizer.model"
fi
"$root/build/release/bench/eval/bench_serve" "$work/tiny" --requests 400 --max-tokens 1
