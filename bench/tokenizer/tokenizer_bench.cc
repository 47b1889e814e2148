// Tokenizer throughput, one core: the SentencePiece library vs our fast exact encoder (issue 5
// item 5), on ordinary documents, on one 10 MB document and on source code, in the same process.
// Also checks that both give identical ids on everything it times.
//   tokenizer_bench [--model m.model] [--vocab 32000] [--workdir DIR] [--docs-mb 8] [--code-mb 4]
//                   [--big-mb 10] [--hf-json tokenizer.json --hf-texts-dir DIR]
// Without --model it trains a LLaMA-2-settings BPE model on local text first (not timed).
#include <sentencepiece_trainer.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "local_corpus.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Run {
  double seconds = 0;
  uint64_t bytes = 0, tokens = 0;
  std::vector<std::vector<uint32_t>> ids;
};

Run time_encode(const longctx::Tokenizer& t, const std::vector<std::string>& docs, bool keep_ids) {
  Run r;
  std::vector<uint32_t> ids;
  auto t0 = Clock::now();
  for (const auto& d : docs) {
    ids.clear();
    if (!t.encode(d, &ids).is_ok()) std::fprintf(stderr, "encode failed\n");
    r.bytes += d.size();
    r.tokens += ids.size();
    if (keep_ids) r.ids.push_back(ids);
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

void report(const char* set, const char* impl, const Run& r, const Run* base) {
  double mbs = r.bytes / r.seconds / 1e6, tps = r.tokens / r.seconds;
  std::printf("%-22s %-26s %8.2f MB/s %12.0f tokens/s  (%7.1f MB, %9llu tokens, %6.2f s)", set, impl, mbs, tps,
              r.bytes / 1e6, static_cast<unsigned long long>(r.tokens), r.seconds);
  if (base) std::printf("  x%.1f vs library", base->seconds / r.seconds);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, workdir = "/tmp/longctx_tokenizer_bench";
  int vocab = 32000;
  double docs_mb = 8, code_mb = 4, big_mb = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--model") model = argv[i + 1];
    if (a == "--vocab") vocab = std::atoi(argv[i + 1]);
    if (a == "--workdir") workdir = argv[i + 1];
    if (a == "--docs-mb") docs_mb = std::atof(argv[i + 1]);
    if (a == "--code-mb") code_mb = std::atof(argv[i + 1]);
    if (a == "--big-mb") big_mb = std::atof(argv[i + 1]);
  }
  namespace tc = longctx::testing_corpus;
  auto docs = tc::prose_documents(static_cast<size_t>(docs_mb * 1e6));
  auto code = tc::code_documents(static_cast<size_t>(code_mb * 1e6));
  // One big document: distinct local text (prose docs beyond the first set, then code) up to big_mb.
  std::string big;
  {
    auto more = tc::collect("/usr/share/doc", {".txt", "README", ".md", ".html", ".rst"},
                            static_cast<size_t>(big_mb * 1e6 * 2));
    for (const auto* set : {&more, &docs, &code})
      for (const auto& d : *set)
        if (big.size() < big_mb * 1e6) big += d;
    big.resize(std::min(big.size(), static_cast<size_t>(big_mb * 1e6)));
  }
  std::filesystem::create_directories(workdir);
  if (model.empty()) {
    std::string train = workdir + "/train.txt";
    {
      std::ofstream f(train, std::ios::binary);
      for (const auto* set : {&docs, &code})
        for (const auto& d : *set) f << d << "\n";
    }
    model = workdir + "/llama2like_" + std::to_string(vocab) + ".model";
    if (!std::filesystem::exists(model)) {
      std::fprintf(stderr, "training a LLaMA-2-settings BPE model (vocab %d) on %s ...\n", vocab, train.c_str());
      auto st = sentencepiece::SentencePieceTrainer::Train(
          "--input=" + train + " --model_prefix=" + model.substr(0, model.size() - 6) +
          " --model_type=bpe --vocab_size=" + std::to_string(vocab) +
          " --character_coverage=0.99995 --input_sentence_size=400000 --split_digits=true "
          "--allow_whitespace_only_pieces=true --byte_fallback=true --normalization_rule_name=identity "
          "--add_dummy_prefix=true --remove_extra_whitespaces=false --max_sentence_length=4192 "
          "--unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --num_threads=2 --minloglevel=2");
      if (!st.ok()) {
        std::fprintf(stderr, "training failed: %s\n", st.ToString().c_str());
        return 1;
      }
    }
  }
  auto lib = longctx::load_tokenizer(model, longctx::TokenizerImpl::kSentencePiece);
  if (!lib.is_ok()) {
    std::fprintf(stderr, "%s\n", lib.status().message().c_str());
    return 1;
  }
  std::printf("model %s (vocab %u), one thread\n", model.c_str(), (*lib)->vocab_size());
  struct Set {
    const char* name;
    std::vector<std::string> docs;
  };
  std::vector<Set> sets = {{"ordinary documents", docs}, {"one 10 MB document", {big}}, {"source code", code}};
  bool all_same = true;
  for (const auto& s : sets) {
    Run base = time_encode(**lib, s.docs, true);
    report(s.name, "sentencepiece library", base, nullptr);
    // A fresh fast tokenizer per set: its per-thread cache starts empty (cold), then a second pass (warm).
    auto fast = longctx::load_tokenizer(model, longctx::TokenizerImpl::kFast);
    if (!fast.is_ok()) {
      std::fprintf(stderr, "%s\n", fast.status().message().c_str());
      return 1;
    }
    Run cold = time_encode(**fast, s.docs, true);
    report(s.name, "fast-bpe (cold cache)", cold, &base);
    Run warm = time_encode(**fast, s.docs, false);
    report(s.name, "fast-bpe (warm cache)", warm, &base);
    if (cold.ids != base.ids) {
      all_same = false;
      std::printf("  !! ids differ from the library on %s\n", s.name);
    }
  }
  std::printf("ids identical to the library on every timed input: %s\n", all_same ? "yes" : "NO");
  return all_same ? 0 : 1;
}
