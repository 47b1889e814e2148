// Long-running differential fuzzer on random and adversarial text (fuzz_text.h) until --seconds pass
// or a difference is found:
//   fast_spm_fuzz --model m.model [--seconds 600] [--seed 1]
//     the fast SentencePiece BPE encoder against the library;
//   fast_spm_fuzz --hf-json tokenizer.json --node-script hf_reference.js [--seconds 600] [--seed 1]
//     hf-bpe against the npm tokenizers package, in batches of 2000 texts (valid UTF-8 only).
// Exit status 0: no difference; 1: a difference (the input is written to fuzz_failure.bin).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/tokenizer.h"
#include "fuzz_text.h"
#include "local_corpus.h"

namespace {

int fuzz_hf(const std::string& json, const std::string& script, double seconds, uint64_t seed) {
  auto ours = longctx::load_tokenizer(json, longctx::TokenizerImpl::kHfBpe);
  if (!ours.is_ok()) {
    std::fprintf(stderr, "load failed: %s\n", ours.status().message().c_str());
    return 2;
  }
  auto docs = longctx::testing_corpus::prose_documents(2 << 20);
  std::vector<std::string> specials = {"<|endoftext|>", "<|begin_of_text|>", "'s", "'LL", "\r\n", "e\xcc\x81",
                                       "\xc2\x85", "\xe3\x80\x80"};
  longctx::Rng rng(seed);
  auto t0 = std::chrono::steady_clock::now();
  uint64_t runs = 0, bytes = 0;
  const std::string in = "hf_fuzz_texts.json", out = "hf_fuzz_ids.json";
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
    std::vector<std::string> texts;
    for (int i = 0; i < 2000; ++i) {
      size_t len = rng.below(8) == 0 ? 1 + rng.below(20000) : 1 + rng.below(400);
      texts.push_back(longctx::testing_corpus::to_valid_utf8(longctx::testing_fuzz::fuzz_text(rng, len, docs, specials)));
    }
    std::ofstream(in) << nlohmann::json(texts).dump();
    std::string cmd = "node " + script + " encode " + json + " " + in + " " + out;
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "failed: %s\n", cmd.c_str());
      return 2;
    }
    std::ifstream f(out);
    nlohmann::json ref = nlohmann::json::parse(f);
    for (size_t i = 0; i < texts.size(); ++i) {
      std::vector<uint32_t> ids;
      (void)(*ours)->encode(texts[i], &ids);
      if (ids != ref[i].get<std::vector<uint32_t>>()) {
        std::ofstream("fuzz_failure.bin", std::ios::binary) << texts[i];
        std::printf("DIFFERENCE after %llu inputs; input written to fuzz_failure.bin\n",
                    static_cast<unsigned long long>(runs + i));
        return 1;
      }
      bytes += texts[i].size();
    }
    runs += texts.size();
  }
  std::printf("%llu inputs, %llu bytes, no difference\n", static_cast<unsigned long long>(runs),
              static_cast<unsigned long long>(bytes));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, hf_json, node_script;
  double seconds = 60;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model")) model = argv[i + 1];
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--hf-json")) hf_json = argv[i + 1];
    if (!std::strcmp(argv[i], "--node-script")) node_script = argv[i + 1];
  }
  if (!hf_json.empty()) return fuzz_hf(hf_json, node_script, seconds, seed);
  if (model.empty()) {
    std::fprintf(stderr,
                 "usage: %s --model m.model [--seconds N] [--seed S]\n"
                 "       %s --hf-json tokenizer.json --node-script hf_reference.js [--seconds N] [--seed S]\n",
                 argv[0], argv[0]);
    return 2;
  }
  auto lib = longctx::load_tokenizer(model, longctx::TokenizerImpl::kSentencePiece);
  auto fast = longctx::load_tokenizer(model, longctx::TokenizerImpl::kFast);
  if (!lib.is_ok() || !fast.is_ok()) {
    std::fprintf(stderr, "load failed: %s%s\n", lib.status().message().c_str(), fast.status().message().c_str());
    return 2;
  }
  auto docs = longctx::testing_corpus::prose_documents(2 << 20);
  std::vector<std::string> specials = {"<s>", "</s>", "<unk>", "<0x41>", "\xe2\x96\x81\xe2\x96\x81"};
  longctx::Rng rng(seed);
  auto t0 = std::chrono::steady_clock::now();
  uint64_t runs = 0, bytes = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
    size_t len = rng.below(8) == 0 ? 1 + rng.below(100000) : 1 + rng.below(500);
    std::string text = longctx::testing_fuzz::fuzz_text(rng, len, docs, specials);
    std::vector<uint32_t> a, b;
    (void)(*lib)->encode(text, &a);
    (void)(*fast)->encode(text, &b);
    if (a != b) {
      std::ofstream("fuzz_failure.bin", std::ios::binary) << text;
      std::printf("DIFFERENCE after %llu inputs: %zu vs %zu ids; input written to fuzz_failure.bin\n",
                  static_cast<unsigned long long>(runs), a.size(), b.size());
      return 1;
    }
    ++runs;
    bytes += text.size();
  }
  std::printf("%llu inputs, %llu bytes, no difference\n", static_cast<unsigned long long>(runs),
              static_cast<unsigned long long>(bytes));
  return 0;
}
