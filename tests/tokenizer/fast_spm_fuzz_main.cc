// Long-running differential fuzzer: the fast SentencePiece BPE encoder against the library on random
// and adversarial text (fuzz_text.h) until --seconds pass or a difference is found.
//   fast_spm_fuzz --model m.model [--seconds 600] [--seed 1]
// Exit status 0: no difference; 1: a difference (the input is written to fuzz_failure.bin).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "tokenizer/tokenizer.h"
#include "fuzz_text.h"
#include "local_corpus.h"

int main(int argc, char** argv) {
  std::string model;
  double seconds = 60;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model")) model = argv[i + 1];
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  if (model.empty()) {
    std::fprintf(stderr, "usage: %s --model m.model [--seconds N] [--seed S]\n", argv[0]);
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
