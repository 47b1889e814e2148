// Hugging Face byte-level BPE (hf_bpe.h): a hand-worked golden model, and exactness against the
// `tokenizers` npm package (the Hugging Face library's native binding) on models it trained on local
// text, on documents and on fuzz inputs. The npm comparison skips when node or the package is absent.
#include "tokenizer/hf_bpe.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include "core/hash.h"
#include "fuzz_text.h"
#include "local_corpus.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

std::string tmp_dir() {
  std::string d = std::string(LONGCTX_TEST_TMP) + "/tokenizer_hf";
  std::filesystem::create_directories(d);
  return d;
}

// GPT-2's byte -> character table, written out independently of the code under test.
std::string byte_char(int b) {
  int n = 0;
  for (int x = 0; x < b; ++x)
    if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) ++n;
  bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  std::string s;
  testing_fuzz::append_utf8(&s, printable ? b : 256 + n);
  return s;
}

TEST(HfBpeHand, Gpt2StyleWorkedByHand) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_char(b)] = b;  // id = byte value
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  vocab[byte_char(' ') + "w"] = 259;
  nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", nlohmann::json::array({{{"id", 260}, {"content", "<|eot|>"}, {"single_word", false},
                                               {"lstrip", false}, {"rstrip", false}, {"normalized", false},
                                               {"special", true}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab},
        {"merges", nlohmann::json::array({"h e", "l l", "he ll", byte_char(' ') + " w"})}}}};
  std::string path = tmp_dir() + "/hand.json";
  std::ofstream(path) << j.dump();
  auto t = load_tokenizer(path, TokenizerImpl::kAuto);
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ((*t)->impl_name(), "hf-bpe");
  // "hell hello w<|eot|>  x": pre-tokens "hell", " hello", " w", [added], "  x" -> " " + " x" by \s+(?!\S).
  // "hell": he(0), ll(1), he+ll(2) -> [hell]. " hello": [Ġ, hell, o]. " w": [Ġw]. "<|eot|>": 260.
  // " " then " x": [Ġ] [Ġ, x].
  std::vector<uint32_t> ids;
  ASSERT_TRUE((*t)->encode("hell hello w<|eot|>  x", &ids).is_ok());
  EXPECT_EQ(ids, (std::vector<uint32_t>{258, 32, 258, 111, 259, 260, 32, 32, 120}));
  auto back = (*t)->decode(ids);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, "hell hello w<|eot|>  x");
}

class HfBpeVsNpm : public ::testing::Test {
 protected:
  static std::string node_dir() { return LONGCTX_HF_NODE_DIR; }
  void SetUp() override {
    if (std::system("node --version > /dev/null 2>&1") != 0)
      GTEST_SKIP() << "node is not installed: install nodejs to compare against Hugging Face tokenizers";
    if (!std::filesystem::exists(node_dir() + "/node_modules/tokenizers"))
      GTEST_SKIP() << "npm package 'tokenizers' missing: run `npm install` in tests/tokenizer/hf_node";
    dir_ = tmp_dir();
    if (!std::filesystem::exists(dir_ + "/nfc.json")) {
      // Trained once per build tree; a private folder per process, then renamed into place (ctest may
      // run two of these tests at once).
      std::string priv = dir_ + "/train." + std::to_string(::getpid());
      std::filesystem::create_directories(priv);
      std::string train;
      for (const auto& d : testing_corpus::prose_documents(2 << 20)) train += d;
      for (const auto& d : testing_corpus::code_documents(1 << 20)) train += d;
      std::ofstream(priv + "/train.txt", std::ios::binary) << testing_corpus::to_valid_utf8(train);
      std::string cmd = "node " + node_dir() + "/hf_reference.js train " + priv + " " + priv + "/train.txt";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
      for (const char* f : {"gpt2style.json", "llama3style.json", "reassigned.json", "nfc.json"})
        std::filesystem::rename(priv + "/" + f, dir_ + "/" + f);
      std::filesystem::remove_all(priv);
    }
  }
  // Encodes texts with the npm package and with ours; reports the first difference.
  void compare(const std::string& model, const std::vector<std::string>& texts) {
    nlohmann::json arr = texts;
    std::string tag = std::to_string(::getpid());
    std::string in = dir_ + "/texts." + tag + ".json", out = dir_ + "/ids." + tag + ".json";
    std::ofstream(in) << arr.dump();
    std::string cmd = "node " + node_dir() + "/hf_reference.js encode " + dir_ + "/" + model + " " + in + " " + out;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream f(out);
    nlohmann::json ref = nlohmann::json::parse(f);
    ASSERT_EQ(ref.size(), texts.size());
    auto t = load_tokenizer(dir_ + "/" + model, TokenizerImpl::kHfBpe);
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    for (size_t i = 0; i < texts.size(); ++i) {
      std::vector<uint32_t> ids;
      ASSERT_TRUE((*t)->encode(texts[i], &ids).is_ok());
      auto want = ref[i].get<std::vector<uint32_t>>();
      if (ids != want) {
        size_t k = 0;
        while (k < ids.size() && k < want.size() && ids[k] == want[k]) ++k;
        std::ofstream(dir_ + "/failing_text.txt", std::ios::binary) << texts[i];
        std::string ctx;
        for (size_t q = k; q < k + 4; ++q) {
          ctx += " npm:" + (q < want.size() ? std::to_string(want[q]) + "'" + (*t)->id_to_piece(want[q]) + "'" : "-");
          ctx += " ours:" + (q < ids.size() ? std::to_string(ids[q]) + "'" + (*t)->id_to_piece(ids[q]) + "'" : "-");
        }
        FAIL() << model << ": text " << i << " differs at token " << k << " (npm " << want.size() << " ids, ours "
               << ids.size() << "); text starts '" << texts[i].substr(0, 100) << "'; from there:" << ctx;
      }
    }
  }
  std::vector<std::string> texts() {
    std::vector<std::string> t;
    auto docs = testing_corpus::prose_documents(1 << 20);
    for (auto& d : testing_corpus::code_documents(256 << 10)) docs.push_back(std::move(d));
    for (const auto& d : docs) t.push_back(testing_corpus::to_valid_utf8(d));
    // Unicode whitespace that \s must match as Oniguruma does, and special tokens.
    t.push_back("a\xc2\x85" "b\xc2\xa0 c\xe3\x80\x80  d\x0b\x0c e\x1c\x1f f\xe2\x80\xa8g  \n\n  h");
    t.push_back("<|endoftext|>x<|endoftext|><|begin_of_text|> <|endoftext|>");
    // Decomposed and composed forms (NFC changes the first ones).
    t.push_back("Cafe\xcc\x81 cafe\xcc\x81s e\xcc\x81\xcc\xa3 \xe1\x84\x80\xe1\x85\xa1 A\xcc\x8a \xef\xac\x81 \xe2\x84\xab");
    Rng rng(7);
    std::vector<std::string> specials = {"<|endoftext|>", "<|begin_of_text|>", "'s", "'LL", "\r\n", "123456",
                                         "e\xcc\x81", "\xcc\x81", "\xe1\x84\x80\xe1\x85\xa1", "\xe2\x84\xab"};
    for (int i = 0; i < 3000; ++i)
      t.push_back(testing_corpus::to_valid_utf8(testing_fuzz::fuzz_text(rng, 1 + rng.below(rng.below(10) == 0 ? 5000 : 200), docs,
                                                        specials)));
    return t;
  }
  std::string dir_;
};

TEST_F(HfBpeVsNpm, Gpt2StyleIdentical) { compare("gpt2style.json", texts()); }
TEST_F(HfBpeVsNpm, Llama3StyleIdentical) { compare("llama3style.json", texts()); }
TEST_F(HfBpeVsNpm, ReassignedAddedTokenIdsIdentical) { compare("reassigned.json", texts()); }
TEST_F(HfBpeVsNpm, NfcNormalizerIdentical) { compare("nfc.json", texts()); }

}  // namespace
}  // namespace longctx
