#!/usr/bin/env bash
# The main job on the built-in sample corpus: build the corpus from Debian packages' text,
# train a tokenizer on it, tokenize it into a document store, and show its domain x length
# statistics (table, Markdown, JSON, PNG and SVG figures), then build the paper's per-source
# length-upsampled mixture (16K sequences) and show its report; then train a tiny base model at 256
# tokens on that mixture and continue it at 2K tokens with a raised RoPE base (the paper's step,
# in miniature), with loss curves, and evaluate both (needle heatmaps, loss against position). Reruns reuse finished steps and redraw the reports
# (--overwrite replaces only files these commands wrote).
set -euo pipefail
out="${1:-demo-out}"
bin="$(cd "$(dirname "$0")/.." && pwd)/build/release/src/cli/longctx"
mkdir -p "$out"
step() { printf '\n== %s\n' "$*"; }

step "1/8 sample corpus (SlimPajama layout) -> $out/sample"
[ -f "$out/sample/sample.json" ] || "$bin" corpus sample --out "$out/sample"

step "2/8 tokenizer (SentencePiece BPE, 8000 pieces, byte fallback) -> $out/tokenizer.model"
[ -f "$out/tokenizer.model" ] || "$bin" tokenizer train "$out/sample/train" --vocab-size 8000 --max-bytes 20MB --out "$out/tokenizer.model"
"$bin" tokenizer encode --tokenizer "$out/tokenizer.model" --pieces --text "Long context: 128K tokens, 2024."

step "3/8 tokenize -> document store $out/store"
[ -f "$out/store/manifest.json" ] || "$bin" tokenize "$out/sample/train" --tokenizer "$out/tokenizer.model" --out "$out/store"
"$bin" store info "$out/store"

step "4/8 statistics: domain x length distribution"
"$bin" stats "$out/store" --json "$out/stats.json" --markdown "$out/stats.md" \
  --figure "$out/stats.png" --figure "$out/stats.svg" --overwrite
printf '\nfigures: %s/stats.png %s/stats.svg; tables: %s/stats.md %s/stats.json\n' "$out" "$out" "$out" "$out"

step "5/8 mixture: per-source length upsampling (paper section 3), 4M tokens in 16K sequences -> $out/mix"
[ -f "$out/mix/manifest.json" ] || "$bin" mix "$out/store" --strategy per-source-upsample --long-share 0.7 \
  --tokens 4M --seq-len 16K --seed 1 --out "$out/mix" --export jsonl > "$out/mix.log"
"$bin" mix report "$out/mix" --markdown "$out/mix.md" --json "$out/mix.json" --figure "$out/mix.png" --figure "$out/mix.svg" --overwrite
"$bin" verify "$out/mix"
"$bin" inspect "$out/mix" --chunk 0 --tokenizer "$out/tokenizer.model" | head -12 || true
printf '\nmixture: %s/mix (shards + manifest), report %s/mix.md, figures %s/mix.png %s/mix-domains.png\n' "$out" "$out" "$out" "$out"

step "6/8 a tiny base model (2 layers, hidden 128) trained from scratch at 256 tokens on the mixture -> $out/base"
cat > "$out/tiny-config.json" <<'JSON'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 8000, "hidden_size": 128,
 "intermediate_size": 352, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
 "rms_norm_eps": 1e-5, "max_position_embeddings": 256, "rope_theta": 10000.0, "tie_word_embeddings": false,
 "bos_token_id": 1, "eos_token_id": 2}
JSON
# a finished run says so and does nothing; an interrupted one resumes
"$bin" train --init "$out/tiny-config.json" --data "$out/mix" --seq-len 256 --steps 60 --batch-tokens 2K \
  --lr 3e-3 --val-share 0.01 --eval-every 20 --eval-sequences 16 --tokenizer "$out/tokenizer.model" --out "$out/base"

step "7/8 continued at 2K tokens with rope_theta 500000 (the paper's recipe, constant lr) -> $out/long"
base_ck="$(ls -d "$out"/base/step-* | tail -1)"
"$bin" train --model "$base_ck" --data "$out/mix" --seq-len 2K --rope-theta 500000 --lr 5e-4 --steps 8 \
  --batch-tokens 4K --val-share 0.01 --eval-every 4 --eval-sequences 8 --out "$out/long"
long_ck="$(ls -d "$out"/long/step-* | tail -1)"
grep -E '"(rope_theta|max_position_embeddings)"' "$long_ck/config.json"
"$bin" generate --model "$long_ck" --prompt "The" --max-new-tokens 24 --temperature 0.8 --seed 1 || true
printf '\nloss curves: %s/base/loss.png %s/base/val-loss.png %s/long/loss.png %s/long/val-loss.png (and .svg)\n' "$out" "$out" "$out" "$out"

# Evaluation of the demo's models (docs/evaluation.md): a small needle sweep on the base and the
# continued model (lengths beyond a model's context are skipped and shown grey) and the loss
# against context position of both on one figure, with the per-domain difference table.
base_model="$base_ck" long_model="$long_ck"
step "8/8 evaluation: needle in a haystack (the paper's protocol, a 6 x 5 grid) and loss against position -> $out/needle-*, $out/loss"
for pair in "base:$base_model" "long:$long_model"; do
  name="${pair%%:*}" m="${pair#*:}"
  [ -f "$m/tokenizer.model" ] || [ -f "$m/tokenizer.json" ] || cp "$out/tokenizer.model" "$m/tokenizer.model"
  "$bin" needle --model "$m" --name "$name" --lengths 256:2048:6 --depths 5 --max-new-tokens 24 \
    --train-length 2048 --out "$out/needle-$name"
done
"$bin" needle compare "$out/needle-base" "$out/needle-long" --names base,long --train-length 2048 \
  --out "$out/needle-compare.png" --overwrite
"$bin" loss --model "$long_model" --name long --baseline "$base_model" --baseline-name base --data "$out/mix" \
  --seq-len 2K --split 256 --buckets 64,128,256,512,1K --max-tokens 32K --out "$out/loss" --overwrite
printf '\nfigures: %s/needle-compare.png, %s/loss/position-loss.png, %s/loss/difference.png (and .svg)\n' "$out" "$out" "$out"
