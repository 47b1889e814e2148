#!/usr/bin/env bash
# Rebuilds the seed corpora in fuzz/corpus/<target>/ from longctx's own tiny outputs (a 20-document
# corpus, a 400-piece tokenizer, a store, a mixture of 8 chunks of 64 tokens and its exports, a
# tiny model) plus hand-written edge cases. Needs the release build (./run.sh build).
# Seeds are committed; rerun this after a format changes. Fuzz findings added by hand to a corpus
# (regression inputs, named finding-*) are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/src/cli/longctx"
[ -x "$bin" ] || { echo "make_seeds: build first (./run.sh build)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
c=fuzz/corpus
for t in corpus_reader store packed export_verify safetensors config spm_model tokenizer_json; do
  mkdir -p "$c/$t"
  find "$c/$t" -type f ! -name 'finding-*' -delete
done
marker=$'\n#LCTXFUZZ#\n'
# seed TARGET NAME FLAGBYTE FILE...: flag byte (octal escape for printf) + the files joined by the marker.
seed() {
  local t="$1" name="$2" flag="$3"; shift 3
  {
    [ -n "$flag" ] && printf "$flag"
    local first=1
    for f in "$@"; do
      [ $first -eq 1 ] || printf '%s' "$marker"
      first=0
      cat "$f"
    done
  } > "$c/$t/$name"
}

# ---- a tiny corpus: three domains, sentences of varied length ----
mkdir -p "$work/corpus/web" "$work/corpus/books"
words=(long context data engineering scales language models to one hundred twenty eight thousand tokens
       with continual pretraining on a mixture where each source keeps its share and long documents are
       upsampled within it 2024 128K perplexity needle haystack retrieval)
for i in $(seq 1 20); do
  text=""
  for k in $(seq 1 $((5 + (i * 37) % 60))); do text+="${words[$(((i * 13 + k * 7) % ${#words[@]}))]} "; done
  dom=$([ $((i % 3)) -eq 0 ] && echo RedPajamaBook || echo RedPajamaCommonCrawl)
  printf '{"text": "%s", "meta": {"redpajama_set_name": "%s"}}\n' "$text" "$dom"
done > "$work/corpus/web/part-0.jsonl"
for i in 1 2 3; do printf 'Chapter %d. %s\n' "$i" "${words[*]}" > "$work/corpus/books/ch$i.txt"; done
"$bin" -q tokenizer train "$work/corpus" --vocab-size 400 --out "$work/tok.model" >/dev/null
"$bin" -q tokenize "$work/corpus" --tokenizer "$work/tok.model" --out "$work/store" >/dev/null
"$bin" -q mix "$work/store" --strategy per-source-upsample --tokens 512 --seq-len 64 --shard-tokens 256 \
  --seed 1 --out "$work/mix" >/dev/null
"$bin" -q export "$work/mix" --format megatron --out "$work/meg" >/dev/null
"$bin" -q export "$work/mix" --format llmc --out "$work/llmc" >/dev/null
"$bin" -q export "$work/mix" --format jsonl --out "$work/rows.jsonl" >/dev/null

# ---- corpus_reader: flag byte = kind (0 jsonl, 1 zst, 2 txt, 3 dotted field) | 4 skip | 8 small max | 16 resume ----
head -c 3000 "$work/corpus/web/part-0.jsonl" | head -n 4 > "$work/ok.jsonl"
seed corpus_reader jsonl-ok '\000' "$work/ok.jsonl"
seed corpus_reader jsonl-ok-skip-resume '\024' "$work/ok.jsonl"
zstd -q -19 "$work/ok.jsonl" -o "$work/ok.jsonl.zst"
seed corpus_reader zst-ok '\001' "$work/ok.jsonl.zst"
printf '%s' "$(head -n1 "$work/ok.jsonl")" | zstd -q -c > "$work/a.zst"; cat "$work/a.zst" "$work/a.zst" > "$work/two.zst"
seed corpus_reader zst-two-frames '\005' "$work/two.zst"
head -c 40 "$work/ok.jsonl.zst" > "$work/trunc.zst"
seed corpus_reader zst-truncated '\005' "$work/trunc.zst"
printf '{"text": "x"}\n\n  \r\n{"text": 5}\n{"text": null}\n{"nope": 1}\n{"text": ""}\n[1,2]\n{"text": "a"} tail\n{"text": "\\u00e9\\ud83d\\ude00 ok"}\n{"text": "\xff\xfe"}\n{"text": "crlf"}\r\n{"text":"unterminated\n' > "$work/bad.jsonl"
seed corpus_reader jsonl-bad-skip '\004' "$work/bad.jsonl"
seed corpus_reader jsonl-bad-small-max '\014' "$work/bad.jsonl"
printf '{"text": "first", "text": "last wins"}\n{"a": {"b": "dotted"}}\n{"a": {"b": 7}}\n{"a": "b"}\n' > "$work/dup.jsonl"
seed corpus_reader jsonl-dup-keys '\004' "$work/dup.jsonl"
seed corpus_reader jsonl-dotted '\007' "$work/dup.jsonl"
printf '\xef\xbb\xbf{"text": "after a byte-order mark"}\n{"text": "second"}\n' > "$work/bom.jsonl"
seed corpus_reader jsonl-bom '\004' "$work/bom.jsonl"
seed corpus_reader txt-ok '\002' "$work/corpus/books/ch1.txt"
printf '\xef\xbb\xbfa text file with a byte-order mark\n' > "$work/bom.txt"
seed corpus_reader txt-bom '\006' "$work/bom.txt"
printf 'bad \xc3\x28 utf8' > "$work/bad.txt"
seed corpus_reader txt-bad-utf8 '\006' "$work/bad.txt"

# ---- store: flag bit 0 = fix checksums; parts manifest.json, tokens.bin, docs.bin ----
s="$work/store"
seed store ok '\000' "$s/manifest.json" "$s/tokens.bin" "$s/docs.bin"
seed store ok-fixsums '\001' "$s/manifest.json" "$s/tokens.bin" "$s/docs.bin"
head -c 100 "$s/tokens.bin" > "$work/tok-short.bin"
seed store short-tokens '\001' "$s/manifest.json" "$work/tok-short.bin" "$s/docs.bin"
printf '{"domains": ["a"], "files": [{"path": "x.jsonl"}]}' > "$work/min-manifest.json"
seed store min-manifest '\001' "$work/min-manifest.json" "$s/tokens.bin" "$s/docs.bin"

# ---- packed: flag bit 0 = fix the first shard's checksum; parts manifest.json, shard ----
m="$work/mix"
"$bin" -q mix "$work/store" --strategy per-source-upsample --tokens 128 --seq-len 32 --shard-tokens 1K \
  --seed 2 --out "$work/mix1" >/dev/null
seed packed one-shard '\000' "$work/mix1/manifest.json" "$work/mix1/shard-00000.lcpk"
seed packed one-shard-fixsum '\001' "$work/mix1/manifest.json" "$work/mix1/shard-00000.lcpk"
seed packed first-of-two '\001' "$m/manifest.json" "$m/shard-00000.lcpk"

# ---- export_verify: flag byte 0 Megatron (.idx, .bin), 1 llm.c shard, 2 rows ----
seed export_verify megatron '\000' "$work/meg.idx" "$work/meg.bin"
seed export_verify llmc '\001' "$work/llmc_000000.bin"
head -n 3 "$work/rows.jsonl" > "$work/rows3.jsonl"
seed export_verify rows '\002' "$work/rows3.jsonl"

# ---- config and safetensors: a tiny model ----
cat > "$work/config.json" <<'JSON'
{"vocab_size": 400, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
 "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128,
 "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true, "bos_token_id": 1,
 "eos_token_id": [2, 3], "torch_dtype": "bfloat16",
 "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32}}
JSON
"$bin" -q model init --config "$work/config.json" --dtype bf16 --out "$work/model" >/dev/null
cp "$work/model/config.json" "$c/config/written"
cp "$work/config.json" "$c/config/yarn"
printf '{"vocab_size": 32, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "rope_parameters": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16}}' > "$c/config/llama3"
printf '{"vocab_size": 32, "hidden_size": 8, "num_attention_heads": 3}' > "$c/config/bad-heads"
cp "$work/model/model.safetensors" "$c/safetensors/bf16-model"
for f in tests/data/model/ref_mqa_linear/model.safetensors; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 65536 ] && cp "$f" "$c/safetensors/f32-ref"
done
printf '\x3a\x00\x00\x00\x00\x00\x00\x00{"__metadata__":{"format":"pt"},"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}\x00\x3c\x00\x40' > "$c/safetensors/hand-f16"

# ---- spm_model: our trained model and a smaller one ----
cp "$work/tok.model" "$c/spm_model/bpe-400"

# ---- tokenizer_json: a byte-level BPE written out by hand (GPT-2's byte alphabet) ----
{
  printf '{"version":"1.0","added_tokens":[{"id":260,"content":"<|endoftext|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],'
  printf '"normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},'
  printf '"model":{"type":"BPE","dropout":null,"unk_token":null,"vocab":{'
  n=0
  for b in $(seq 0 255); do
    if { [ $b -ge 33 ] && [ $b -le 126 ]; } || { [ $b -ge 161 ] && [ $b -le 172 ]; } || { [ $b -ge 174 ] && [ $b -le 255 ]; }; then cp=$b; else cp=$((256 + n)); n=$((n + 1)); fi
    printf '"\\u%04x":%d,' "$cp" "$b"
  done
  printf '"he":256,"ll":257,"hell":258,"\\u0120w":259},"merges":["h e","l l","he ll","\\u0120 w"]}}'
} > "$c/tokenizer_json/byte-level-gpt2"
sed 's/"normalizer":null/"normalizer":{"type":"NFC"}/; s/"type":"ByteLevel","add_prefix_space":false,"use_regex":true/"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\\\p{N}{1,3}"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]/' \
  "$c/tokenizer_json/byte-level-gpt2" > "$c/tokenizer_json/nfc-split"

du -sh "$c"; for t in "$c"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds, $(du -sk "$t" | cut -f1) KB"; done
