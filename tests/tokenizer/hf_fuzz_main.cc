// Long-running differential fuzzer for tokenizer.json models (hf_bpe.h) against the npm `tokenizers`
// package (not part of ctest; docs/tokenizer.md reports its runs):
//   hf_fuzz --model llama2|gemma3|deepseek_v3|PATH.json [--seconds 300] [--seed 1] [--batch 400]
// Each round encodes a batch of fuzz texts (fuzz_text.h: space runs, mixed scripts, ill-formed
// UTF-8, added tokens, slices of local documents) with both and decodes id lists (the encodings,
// slices that cut characters, random ids) with special tokens kept and skipped. Stops at the first
// difference, writing the text to hf_fuzz_failure.txt, and exits 1.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/hash.h"
#include "fuzz_text.h"
#include "hf_reference.h"
#include "local_corpus.h"
#include "tokenizer/tokenizer.h"

using namespace longctx;

int main(int argc, char** argv) {
  std::string model = "llama2", work = "/tmp/longctx_hf_fuzz";
  double seconds = 300;
  uint64_t seed = 1;
  int batch = 400;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--model") model = argv[i + 1];
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    if (a == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
    if (a == "--batch") batch = std::atoi(argv[i + 1]);
    if (a == "--workdir") work = argv[i + 1];
  }
  std::string why = testing_hf::npm_missing();
  if (!why.empty()) {
    std::fprintf(stderr, "%s\n", why.c_str());
    return 2;
  }
  if (model.find('/') == std::string::npos && model.find(".json") == std::string::npos)
    model = testing_hf::real_model(model);
  std::filesystem::create_directories(work);
  auto tok = load_tokenizer(model, TokenizerImpl::kHfBpe);
  if (!tok.is_ok()) {
    std::fprintf(stderr, "%s\n", tok.status().message().c_str());
    return 2;
  }
  const Tokenizer& t = **tok;
  auto docs = testing_corpus::prose_documents(4 << 20);
  for (auto& c : testing_corpus::code_documents(1 << 20)) docs.push_back(std::move(c));
  std::vector<std::string> specials = {"\xe2\x96\x81", "<0x41>", "'s", "\r\n", "123456", "e\xcc\x81", "   ", "\t\t",
                                       "\n\n\n", "<s>", "</s>", "<unk>"};
  for (const auto& [content, id] : t.info().special_tokens) specials.push_back(content);
  Rng rng(seed);
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t texts = 0, bytes = 0, lists = 0, rounds = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
    std::vector<std::string> in;
    std::vector<std::vector<uint32_t>> ours;
    for (int i = 0; i < batch; ++i) {
      size_t len = rng.below(20) == 0 ? 1 + rng.below(30000) : 1 + rng.below(400);
      in.push_back(testing_fuzz::fuzz_text(rng, len, docs, specials));
      ours.emplace_back();
      if (!t.encode(in.back(), &ours.back()).is_ok()) return 3;
    }
    std::vector<std::vector<uint32_t>> dec = ours;
    for (int i = 0; i < batch; ++i) {
      const auto& e = ours[rng.below(ours.size())];
      if (!e.empty()) {
        size_t a = rng.below(e.size()), b = a + 1 + rng.below(std::min<size_t>(e.size() - a, 40));
        dec.emplace_back(e.begin() + a, e.begin() + b);
      }
      std::vector<uint32_t> r;
      for (size_t k = rng.below(20); k > 0; --k) r.push_back(static_cast<uint32_t>(rng.below(t.vocab_size())));
      dec.push_back(r);
    }
    nlohmann::json req = {{"texts", nlohmann::json::array()}, {"ids", dec}};
    for (const auto& s : in) req["texts"].push_back(testing_hf::base64(s));
    std::string failed;
    nlohmann::json ref = testing_hf::run_node("check", model, req, work, &failed);
    if (!failed.empty()) {
      std::fprintf(stderr, "reference failed: %s\n", failed.c_str());
      return 2;
    }
    for (size_t i = 0; i < in.size(); ++i) {
      if (ref["ids"][i].get<std::vector<uint32_t>>() != ours[i]) {
        std::ofstream("hf_fuzz_failure.txt", std::ios::binary) << in[i];
        std::printf("DIFFERENT ids on text %zu of round %llu (%zu bytes): written to hf_fuzz_failure.txt\n", i,
                    static_cast<unsigned long long>(rounds), in[i].size());
        return 1;
      }
      bytes += in[i].size();
    }
    for (size_t i = 0; i < dec.size(); ++i) {
      for (int skip = 0; skip < 2; ++skip) {
        auto got = t.decode(dec[i], skip);
        if (!got.is_ok() || *got != ref[skip ? "skip" : "keep"][i].get<std::string>()) {
          std::printf("DIFFERENT decode of id list %zu of round %llu (skip_special %d)\n", i,
                      static_cast<unsigned long long>(rounds), skip);
          return 1;
        }
      }
    }
    texts += in.size();
    lists += dec.size();
    ++rounds;
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%.0f s: %llu texts (%.1f MB) and %llu id lists x2 identical\n", el,
                static_cast<unsigned long long>(texts), bytes / 1e6, static_cast<unsigned long long>(lists));
    std::fflush(stdout);
  }
  std::printf("done: %s, %llu rounds, %llu texts (%.1f MB), %llu id lists decoded twice, no difference\n",
              model.c_str(), static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(texts),
              bytes / 1e6, static_cast<unsigned long long>(lists));
  return 0;
}
