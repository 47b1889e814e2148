#!/usr/bin/env bash
# The main job on the built-in sample corpus: build the corpus from Debian packages' text,
# train a tokenizer on it, tokenize it into a document store, and show its domain x length
# statistics (table, Markdown, JSON, PNG and SVG figures). Reruns reuse finished steps.
set -euo pipefail
out="${1:-demo-out}"
bin="$(cd "$(dirname "$0")/.." && pwd)/build/release/src/cli/longctx"
mkdir -p "$out"
step() { printf '\n== %s\n' "$*"; }

step "1/4 sample corpus (SlimPajama layout) -> $out/sample"
[ -f "$out/sample/sample.json" ] || "$bin" corpus sample --out "$out/sample"

step "2/4 tokenizer (SentencePiece BPE, 8000 pieces, byte fallback) -> $out/tokenizer.model"
[ -f "$out/tokenizer.model" ] || "$bin" tokenizer train "$out/sample/train" --vocab-size 8000 --max-bytes 20MB --out "$out/tokenizer.model"
"$bin" tokenizer encode --tokenizer "$out/tokenizer.model" --pieces --text "Long context: 128K tokens, 2024."

step "3/4 tokenize -> document store $out/store"
[ -f "$out/store/manifest.json" ] || "$bin" tokenize "$out/sample/train" --tokenizer "$out/tokenizer.model" --out "$out/store"
"$bin" store info "$out/store"

step "4/4 statistics: domain x length distribution"
"$bin" stats "$out/store" --json "$out/stats.json" --markdown "$out/stats.md" \
  --figure "$out/stats.png" --figure "$out/stats.svg"
printf '\nfigures: %s/stats.png %s/stats.svg; tables: %s/stats.md %s/stats.json\n' "$out" "$out" "$out" "$out"
