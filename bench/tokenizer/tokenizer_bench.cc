// Tokenizer throughput, one core: the SentencePiece library vs our fast exact encoder (issue 5
// item 5), on ordinary documents, on one 10 MB document and on source code, in the same process.
// Also checks that both give identical ids on everything it times.
//   tokenizer_bench [--model m.model] [--vocab 32000] [--workdir DIR] [--docs-mb 8] [--code-mb 4]
//                   [--big-mb 10] [--hf-json tokenizer.json] [--node-script hf_reference.js]
// Without --model it trains a LLaMA-2-settings BPE model on local text first (not timed).
// Second part: a Hugging Face tokenizer.json (default: the LLaMA-3-style model that the npm
// `tokenizers` package trains on local text through tests/tokenizer/hf_node/hf_reference.js), timed
// in the npm package (node, one document per encode call, awaited: one core) and in hf-bpe, on the
// same documents (made valid UTF-8, as JavaScript strings must be).
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
  std::string hf_json, node_script = LONGCTX_HF_NODE_DIR "/hf_reference.js";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--model") model = argv[i + 1];
    if (a == "--vocab") vocab = std::atoi(argv[i + 1]);
    if (a == "--workdir") workdir = argv[i + 1];
    if (a == "--docs-mb") docs_mb = std::atof(argv[i + 1]);
    if (a == "--code-mb") code_mb = std::atof(argv[i + 1]);
    if (a == "--big-mb") big_mb = std::atof(argv[i + 1]);
    if (a == "--hf-json") hf_json = argv[i + 1];
    if (a == "--node-script") node_script = argv[i + 1];
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

  // ---- Hugging Face tokenizer.json: npm tokenizers vs hf-bpe ----
  bool have_node = std::system("node --version > /dev/null 2>&1") == 0 && std::filesystem::exists(node_script);
  if (!have_node) {
    std::printf("hf-bpe vs npm tokenizers: skipped (node or %s missing; npm install in its folder)\n",
                node_script.c_str());
    return all_same ? 0 : 1;
  }
  if (hf_json.empty()) {
    hf_json = workdir + "/hf/llama3style.json";
    if (!std::filesystem::exists(hf_json)) {
      std::string train = workdir + "/hf_train.txt";
      {
        std::ofstream f(train, std::ios::binary);
        for (const auto* set : {&docs, &code})
          for (const auto& d : *set) f << tc::to_valid_utf8(d) << "\n";
      }
      std::string cmd = "node " + node_script + " train " + workdir + "/hf " + train + " > /dev/null 2>&1";
      if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "failed: %s\n", cmd.c_str());
        return 1;
      }
    }
  }
  auto hf = longctx::load_tokenizer(hf_json, longctx::TokenizerImpl::kHfBpe);
  if (!hf.is_ok()) {
    std::fprintf(stderr, "%s\n", hf.status().message().c_str());
    return 1;
  }
  std::printf("\nmodel %s (vocab %u), one thread\n", hf_json.c_str(), (*hf)->vocab_size());
  int set_no = 0;
  for (auto& s : sets) {
    std::string files;
    for (size_t i = 0; i < s.docs.size(); ++i) {
      s.docs[i] = tc::to_valid_utf8(s.docs[i]);
      std::string f = workdir + "/hf_doc_" + std::to_string(set_no) + "_" + std::to_string(i) + ".txt";
      std::ofstream(f, std::ios::binary) << s.docs[i];
      files += " " + f;
    }
    ++set_no;
    std::string cmd = "node " + node_script + " bench " + hf_json + files;
    FILE* p = popen(cmd.c_str(), "r");
    char line[1024] = {0};
    bool got = p && std::fgets(line, sizeof line, p);
    if (p) pclose(p);
    Run npm;
    double secs = 0, bytes = 0, tokens = 0;
    if (!got || std::sscanf(line, "{\"seconds\":%lf,\"bytes\":%lf,\"tokens\":%lf", &secs, &bytes, &tokens) != 3) {
      std::fprintf(stderr, "npm bench failed: %s\n", line);
      return 1;
    }
    npm.seconds = secs;
    npm.bytes = static_cast<uint64_t>(bytes);
    npm.tokens = static_cast<uint64_t>(tokens);
    report(s.name, "npm tokenizers", npm, nullptr);
    auto fresh = longctx::load_tokenizer(hf_json, longctx::TokenizerImpl::kHfBpe);
    Run cold = time_encode(**fresh, s.docs, false);
    std::printf("%-22s %-26s %8.2f MB/s %12.0f tokens/s  (%7.1f MB, %9llu tokens, %6.2f s)  x%.1f vs npm\n", s.name,
                "hf-bpe (cold cache)", cold.bytes / cold.seconds / 1e6, cold.tokens / cold.seconds, cold.bytes / 1e6,
                static_cast<unsigned long long>(cold.tokens), cold.seconds, npm.seconds / cold.seconds);
    Run warm = time_encode(**fresh, s.docs, false);
    std::printf("%-22s %-26s %8.2f MB/s %12.0f tokens/s  (%7.1f MB, %9llu tokens, %6.2f s)  x%.1f vs npm\n", s.name,
                "hf-bpe (warm cache)", warm.bytes / warm.seconds / 1e6, warm.tokens / warm.seconds, warm.bytes / 1e6,
                static_cast<unsigned long long>(warm.tokens), warm.seconds, npm.seconds / warm.seconds);
    if (cold.tokens != npm.tokens) {
      all_same = false;
      std::printf("  !! token count differs from npm tokenizers on %s\n", s.name);
    }
  }
  return all_same ? 0 : 1;
}
