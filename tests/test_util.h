// Helpers shared by the test programs: scratch directories, running the CLI, a small
// multi-domain corpus and a tiny tokenizer trained on it.
#pragma once
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/hash.h"
#include "tokenizer/tokenizer.h"

namespace longctx::testing {

// Per process: ctest runs test cases as separate processes, in parallel.
inline std::string scratch_dir(const std::string& name) {
  std::string d = std::string(LONGCTX_TEST_TMP) + "/" + std::to_string(::getpid()) + "/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout + stderr
};

inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  std::FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

inline CommandResult run_longctx(const std::string& args) {
  return run_command(std::string(LONGCTX_BINARY) + " -q " + args);
}

inline std::string read_all(const std::string& path) {
  auto r = read_file(path);
  return r.is_ok() ? *r : std::string("<missing " + path + ">");
}

// Deterministic English-like text of about `bytes` bytes from a fixed vocabulary.
inline std::string fake_text(uint64_t seed, size_t bytes) {
  static const char* words[] = {"the",    "context", "window",  "model",   "long",   "data",   "token",
                                "length", "mixture", "domain",  "book",    "code",   "paper",  "retrieval",
                                "needle", "haystack", "position", "rope",  "base",   "scaling", "2024",
                                "128K",   "learn",   "attention", "sequence", "upsample", "source", "we"};
  Rng rng(seed);
  std::string s;
  while (s.size() < bytes) {
    s += words[rng.below(sizeof(words) / sizeof(words[0]))];
    uint64_t r = rng.below(20);
    s += r == 0 ? ".\n" : r == 1 ? ", " : " ";
  }
  return s;
}

// Writes a small SlimPajama-layout corpus: `files` JSONL files (the first one zstd-compressed
// when compress_first) with docs of three domains and a few long documents.
inline void write_small_corpus(const std::string& dir, int files = 4, int docs_per_file = 30) {
  const char* domains[] = {"RedPajamaBook", "RedPajamaC4", "RedPajamaGithub"};
  std::filesystem::create_directories(dir + "/train/chunk1");
  for (int f = 0; f < files; ++f) {
    std::string out;
    for (int d = 0; d < docs_per_file; ++d) {
      uint64_t seed = static_cast<uint64_t>(f * 1000 + d);
      int dom = static_cast<int>(mix64(seed) % 3);
      size_t len = dom == 0 ? 4000 + mix64(seed + 7) % 30000 : 100 + mix64(seed + 7) % 2000;
      nlohmann::json j = {{"text", fake_text(seed, len)}, {"meta", {{"redpajama_set_name", domains[dom]}}}};
      out += j.dump() + "\n";
    }
    std::string path = dir + "/train/chunk1/example_train_" + std::to_string(f) + ".jsonl";
    EXPECT_TRUE(write_file_atomic(path, out).is_ok());
  }
}

// Trains (once per process) a small BPE model on fake text; returns the model path.
inline std::string tiny_tokenizer() {
  static std::string path;
  if (!path.empty()) return path;
  std::string dir = scratch_dir("tiny-tokenizer");
  std::string text;
  for (int i = 0; i < 200; ++i) text += fake_text(static_cast<uint64_t>(i) + 99, 400) + "\n";
  text += "Zählen, café, naïve. 数据工程 扩展 上下文 窗口。 Привет мир. 東京 2024年\n";
  EXPECT_TRUE(write_file_atomic(dir + "/train.txt", text).is_ok());
  TokenizerTrainConfig cfg;
  cfg.input_files = {dir + "/train.txt"};
  cfg.model_prefix = dir + "/tiny";
  cfg.vocab_size = 400;
  cfg.num_threads = 1;
  cfg.character_coverage = 1.0;
  Status st = train_sentencepiece_bpe(cfg);
  EXPECT_TRUE(st.is_ok()) << st.message();
  path = dir + "/tiny.model";
  return path;
}

}  // namespace longctx::testing
