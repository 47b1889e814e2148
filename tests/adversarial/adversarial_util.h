// Fixtures of the adversarial tests: small stores, mixtures and model folders made quickly, and
// checks that a path was left exactly as it was.
#pragma once
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "model/checkpoint.h"
#include "store/document_store.h"
#include "test_util.h"

namespace longctx::adversarial {

using testing::CommandResult;
using testing::read_all;
using testing::run_command;
using testing::run_longctx;
using testing::scratch_dir;

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A document store written through the library (no tokenizer needed): domains A and B, 7
// documents, 12,000 tokens, ids 10..16.
inline std::string small_store(const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto w = StoreWriter::create(dir, 2);
  EXPECT_TRUE(w.is_ok());
  uint16_t a = w->domain_id("A"), b = w->domain_id("B");
  const std::pair<uint16_t, uint32_t> docs[] = {{a, 500}, {b, 1500}, {a, 500}, {b, 1500}, {a, 5000}, {b, 1500}, {b, 1500}};
  for (size_t i = 0; i < std::size(docs); ++i) {
    std::vector<uint32_t> t(docs[i].second, static_cast<uint32_t>(10 + i));
    EXPECT_TRUE(w->add(t, 500 + i, i + 1, 0, docs[i].first, 4 * t.size()).is_ok());
  }
  nlohmann::json m;
  m["files"] = {{{"path", "adversarial"}}};
  m["tokenizer"] = {{"vocab_size", 32000}, {"bos_id", 1}, {"eos_id", 2}};
  EXPECT_TRUE(w->finish(m).is_ok());
  return dir;
}

// The arguments of a small mix of `store` (8 sequences of 1,024 tokens, 2 shards of 4).
inline std::string mix_args(const std::string& store, const std::string& out) {
  return "mix " + store + " --strategy original --tokens 8192 --seq-len 1K --shard-tokens 4096 --out " + out;
}

// Every regular file under `dir` (relative name -> bytes), to compare whole output directories.
inline std::map<std::string, std::string> tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[std::filesystem::relative(e.path(), dir).string()] = read_all(e.path().string());
  return out;
}

// The model folder of the reference tests (config.json + model.safetensors), read-only.
inline std::string reference_model() { return std::string(LONGCTX_TEST_DATA) + "/model/ref_gqa_untied"; }

// A model the evaluation commands can run in moments: 1 layer, hidden 16, 512 positions, the
// tiny tokenizer's 400 ids, with tokenizer.model in its folder.
inline std::string tiny_model_with_tokenizer(const std::string& dir) {
  model::LlamaConfig c;
  c.vocab_size = 400;
  c.hidden_size = 16, c.intermediate_size = 24, c.num_hidden_layers = 1, c.num_attention_heads = 2;
  c.num_key_value_heads = 2, c.max_position_embeddings = 512;
  auto m = model::LlamaModel::create(c);
  EXPECT_TRUE(m.is_ok());
  model::init_params(c, 1, 0.3f, m->params());
  EXPECT_TRUE(model::save_checkpoint(*m, dir, {}).is_ok());
  std::filesystem::copy_file(testing::tiny_tokenizer(), dir + "/tokenizer.model",
                             std::filesystem::copy_options::overwrite_existing);
  return dir;
}

// The arguments of a small needle sweep on such a model (6 cells; 700 tokens + the template
// exceed 512 positions, so 2 of them are skipped).
inline std::string needle_args(const std::string& model, const std::string& haystack, const std::string& out) {
  return "needle --model " + model + " --haystack " + haystack +
         " --lengths 300,450,700 --depths 0,100 --max-new-tokens 4 --threads 1 --out " + out;
}

}  // namespace longctx::adversarial
