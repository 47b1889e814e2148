#!/usr/bin/env bash
# The main job on the built-in sample corpus: build the corpus from Debian packages' text,
# train a tokenizer on it, tokenize it into a document store, and show its domain x length
# statistics (table, Markdown, JSON, PNG and SVG figures), then build the paper's per-source
# length-upsampled mixture (16K sequences) and show its report. Reruns reuse finished steps.
set -euo pipefail
out="${1:-demo-out}"
bin="$(cd "$(dirname "$0")/.." && pwd)/build/release/src/cli/longctx"
mkdir -p "$out"
step() { printf '\n== %s\n' "$*"; }

step "1/5 sample corpus (SlimPajama layout) -> $out/sample"
[ -f "$out/sample/sample.json" ] || "$bin" corpus sample --out "$out/sample"

step "2/5 tokenizer (SentencePiece BPE, 8000 pieces, byte fallback) -> $out/tokenizer.model"
[ -f "$out/tokenizer.model" ] || "$bin" tokenizer train "$out/sample/train" --vocab-size 8000 --max-bytes 20MB --out "$out/tokenizer.model"
"$bin" tokenizer encode --tokenizer "$out/tokenizer.model" --pieces --text "Long context: 128K tokens, 2024."

step "3/5 tokenize -> document store $out/store"
[ -f "$out/store/manifest.json" ] || "$bin" tokenize "$out/sample/train" --tokenizer "$out/tokenizer.model" --out "$out/store"
"$bin" store info "$out/store"

step "4/5 statistics: domain x length distribution"
"$bin" stats "$out/store" --json "$out/stats.json" --markdown "$out/stats.md" \
  --figure "$out/stats.png" --figure "$out/stats.svg"
printf '\nfigures: %s/stats.png %s/stats.svg; tables: %s/stats.md %s/stats.json\n' "$out" "$out" "$out" "$out"

step "5/5 mixture: per-source length upsampling (paper section 3), 4M tokens in 16K sequences -> $out/mix"
[ -f "$out/mix/manifest.json" ] || "$bin" mix "$out/store" --strategy per-source-upsample --long-share 0.7 \
  --tokens 4M --seq-len 16K --seed 1 --out "$out/mix" --export jsonl > "$out/mix.log"
"$bin" mix report "$out/mix" --markdown "$out/mix.md" --json "$out/mix.json" --figure "$out/mix.png" --figure "$out/mix.svg"
"$bin" verify "$out/mix"
"$bin" inspect "$out/mix" --chunk 0 --tokenizer "$out/tokenizer.model" | head -12 || true
printf '\nmixture: %s/mix (shards + manifest), report %s/mix.md, figures %s/mix.png %s/mix-domains.png\n' "$out" "$out" "$out" "$out"
