// Fast SentencePiece BPE encoder (fast_spm_bpe.h) against hand-worked ids and against the
// SentencePiece library (the reference) on local documents and under a bounded differential fuzz.
#include "tokenizer/fast_spm_bpe.h"

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <tuple>

#include <unistd.h>

#include "core/file_io.h"
#include "core/hash.h"
#include "tokenizer/spm_model_proto.h"
#include "tokenizer/tokenizer.h"
#include "fuzz_text.h"
#include "local_corpus.h"

namespace longctx {
namespace {

// ---------------------------------------------------------------------------------------------
// Hand-built models in protobuf wire format (independent of our reader).

void put_varint(std::string* o, uint64_t v) {
  while (v >= 0x80) {
    o->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  o->push_back(static_cast<char>(v));
}
void put_tag(std::string* o, uint32_t field, int wire) { put_varint(o, (uint64_t{field} << 3) | wire); }
void put_bytes(std::string* o, uint32_t field, std::string_view s) {
  put_tag(o, field, 2);
  put_varint(o, s.size());
  o->append(s);
}

struct HandPiece {
  std::string piece;
  float score;
  int type;  // 1 normal, 2 unk, 3 control, 4 user-defined, 5 unused, 6 byte
};

std::string hand_model(const std::vector<HandPiece>& pieces, int model_type, bool byte_fallback,
                       bool remove_extra_ws) {
  std::string o;
  for (const auto& p : pieces) {
    std::string m;
    put_bytes(&m, 1, p.piece);
    put_tag(&m, 2, 5);
    uint32_t bits;
    std::memcpy(&bits, &p.score, 4);
    m.append(reinterpret_cast<const char*>(&bits), 4);
    put_tag(&m, 3, 0);
    put_varint(&m, p.type);
    put_bytes(&o, 1, m);
  }
  std::string trainer;
  put_tag(&trainer, 3, 0);
  put_varint(&trainer, model_type);
  put_tag(&trainer, 35, 0);
  put_varint(&trainer, byte_fallback ? 1 : 0);
  put_bytes(&o, 2, trainer);
  std::string norm;
  put_bytes(&norm, 1, "identity");
  put_tag(&norm, 3, 0);
  put_varint(&norm, 1);
  put_tag(&norm, 4, 0);
  put_varint(&norm, remove_extra_ws ? 1 : 0);
  put_tag(&norm, 5, 0);
  put_varint(&norm, 1);
  put_bytes(&o, 3, norm);
  return o;
}

const std::string kSp = "\xe2\x96\x81";  // U+2581

// Model A: ids 0..11. Merge scores: ab -1, bc -1.5, abc -0.5, ▁a -2, ▁ab -3.
std::vector<HandPiece> model_a_pieces() {
  return {{"<unk>", 0, 2}, {"<s>", 0, 3},    {"</s>", 0, 3},     {kSp, -10, 1},        {"a", -10, 1},  {"b", -10, 1},
          {"c", -10, 1},   {"ab", -1, 1},    {kSp + "a", -2, 1}, {kSp + "ab", -3, 1}, {"bc", -1.5, 1}, {"abc", -0.5, 1}};
}

std::string write_tmp(const std::string& name, const std::string& bytes) {
  std::string dir = std::string(LONGCTX_TEST_TMP) + "/tokenizer";
  std::filesystem::create_directories(dir);
  std::string p = dir + "/" + name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

std::vector<uint32_t> enc(const Tokenizer& t, std::string_view s) {
  std::vector<uint32_t> ids;
  EXPECT_TRUE(t.encode(s, &ids).is_ok());
  return ids;
}
std::vector<uint32_t> enc_fast(const FastSpmBpe& f, std::string_view s) {
  std::vector<uint32_t> ids;
  f.encode(s, &ids);
  return ids;
}

std::unique_ptr<FastSpmBpe> compile_or_die(const std::string& bytes) {
  auto proto = parse_spm_model_proto(bytes);
  EXPECT_TRUE(proto.is_ok()) << proto.status().message();
  auto f = FastSpmBpe::compile(*proto);
  EXPECT_TRUE(f.is_ok()) << f.status().message();
  return std::move(f).value();
}

using V = std::vector<uint32_t>;

TEST(FastSpmBpeHand, MergeOrderWorkedByHand) {
  std::string bytes = hand_model(model_a_pieces(), 2, false, false);
  auto fast = compile_or_die(bytes);
  auto lib = load_tokenizer(write_tmp("hand_a.model", bytes), TokenizerImpl::kSentencePiece);
  ASSERT_TRUE(lib.is_ok()) << lib.status().message();
  // "abc" -> ▁ a b c; ab(-1) beats bc(-1.5) and ▁a(-2); then abc(-0.5) beats ▁ab(-3): [▁, abc].
  // "ab ab" -> ▁ a b ▁ a b; ab twice (leftmost first), then ▁ab twice: [▁ab, ▁ab].
  // "bcab" -> ▁ b c a b; ab(-1) first, then bc(-1.5): [▁, bc, ab].
  // "cé é" -> ▁ c é ▁ é: no merges; é is unknown, the two unknowns are not adjacent: [▁ c unk ▁ unk].
  // "éé" -> ▁ é é: consecutive unknowns collapse: [▁, unk].
  const std::vector<std::pair<std::string, V>> cases = {
      {"abc", {3, 11}}, {"ab ab", {9, 9}}, {"bcab", {3, 10, 7}}, {"c\xc3\xa9 \xc3\xa9", {3, 6, 0, 3, 0}},
      {"\xc3\xa9\xc3\xa9", {3, 0}}, {"", {}}, {" ", {3, 3}}};
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(enc_fast(*fast, text), want) << "text '" << text << "'";
    V ref;
    fast->encode_reference(text, &ref);
    EXPECT_EQ(ref, want) << "reference, text '" << text << "'";
    EXPECT_EQ(enc(**lib, text), want) << "library, text '" << text << "'";
  }
}

TEST(FastSpmBpeHand, ByteFallbackAndInvalidUtf8) {
  std::vector<HandPiece> p = {{"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3}};
  for (int b = 0; b < 256; ++b) p.push_back({fmt::format("<0x{:02X}>", b), 0, 6});
  p.push_back({kSp, -10, 1});        // 259
  p.push_back({"a", -10, 1});        // 260
  p.push_back({kSp + "a", -1, 1});   // 261
  std::string bytes = hand_model(p, 2, true, false);
  auto fast = compile_or_die(bytes);
  auto lib = load_tokenizer(write_tmp("hand_b.model", bytes), TokenizerImpl::kSentencePiece);
  ASSERT_TRUE(lib.is_ok()) << lib.status().message();
  // é = C3 A9 -> two byte pieces (id 3 + byte). A bad byte FF becomes U+FFFD = EF BF BD first.
  const std::vector<std::pair<std::string, V>> cases = {
      {"a\xc3\xa9", {261, 3 + 0xc3, 3 + 0xa9}},
      {"\xff", {259, 3 + 0xef, 3 + 0xbf, 3 + 0xbd}},
      {"a\n\n", {261, 3 + 0x0a, 3 + 0x0a}}};
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(enc_fast(*fast, text), want);
    EXPECT_EQ(enc(**lib, text), want);
  }
}

TEST(FastSpmBpeHand, RemoveExtraWhitespaceAndUserSymbols) {
  auto p = model_a_pieces();
  p.push_back({"<sep>", 0, 4});  // 12, user-defined: matched first, never merged
  p.push_back({"ca", -0.1f, 4}); // 13, user-defined
  std::string bytes = hand_model(p, 2, false, true);
  auto fast = compile_or_die(bytes);
  auto lib = load_tokenizer(write_tmp("hand_c.model", bytes), TokenizerImpl::kSentencePiece);
  ASSERT_TRUE(lib.is_ok()) << lib.status().message();
  // "  ab   ab  " -> "▁ab▁ab" (spaces collapsed and trimmed): [▁ab, ▁ab].
  // "a<sep>b" -> ▁ a <sep> b: ▁a merges, <sep> frozen: [▁a, <sep>, b].
  // "cab" -> ▁ "ca" b ("ca" user symbol matched before merging): [▁, ca, b].
  const std::vector<std::pair<std::string, V>> cases = {
      {"  ab   ab  ", {9, 9}}, {"a<sep>b", {8, 12, 5}}, {"cab", {3, 13, 5}}, {"   ", {}}};
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(enc_fast(*fast, text), want) << "text '" << text << "'";
    EXPECT_EQ(enc(**lib, text), want) << "library, text '" << text << "'";
  }
}

TEST(FastSpmBpeHand, UnsupportedFeaturesFallBackWithReason) {
  auto p = model_a_pieces();
  p.push_back({"bca", -1, 5});  // UNUSED
  std::string unused = hand_model(p, 2, false, false);
  auto proto = parse_spm_model_proto(unused);
  ASSERT_TRUE(proto.is_ok());
  auto f = FastSpmBpe::compile(*proto);
  ASSERT_FALSE(f.is_ok());
  EXPECT_EQ(f.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(f.status().message().find("UNUSED"), std::string::npos) << f.status().message();
  std::string path = write_tmp("hand_unused.model", unused);
  auto autot = load_tokenizer(path, TokenizerImpl::kAuto);
  ASSERT_TRUE(autot.is_ok()) << autot.status().message();
  EXPECT_EQ((*autot)->impl_name(), "sentencepiece");
  EXPECT_NE((*autot)->impl_note().find("UNUSED"), std::string::npos);
  auto forced = load_tokenizer(path, TokenizerImpl::kFast);
  ASSERT_FALSE(forced.is_ok());
  EXPECT_EQ(forced.status().code(), ErrorCode::kUnsupported);

  std::string unigram = hand_model(model_a_pieces(), 1, false, false);
  auto up = parse_spm_model_proto(unigram);
  ASSERT_TRUE(up.is_ok());
  auto uf = FastSpmBpe::compile(*up);
  ASSERT_FALSE(uf.is_ok());
  EXPECT_NE(uf.status().message().find("not BPE"), std::string::npos) << uf.status().message();
}

// Native decoding (spm_decoder.h) against strings worked out by hand and against the library.
TEST(SpmDecodeHand, BytesSpacesControlAndUnknownWorkedByHand) {
  std::vector<HandPiece> p = {{"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3}};
  for (int b = 0; b < 256; ++b) p.push_back({fmt::format("<0x{:02X}>", b), 0, 6});
  p.push_back({kSp, -10, 1});        // 259
  p.push_back({"a", -10, 1});        // 260
  p.push_back({kSp + "a", -1, 1});   // 261
  p.push_back({"b" + kSp, -1, 1});   // 262
  std::string bytes = hand_model(p, 2, true, false);
  std::string path = write_tmp("hand_dec.model", bytes);
  auto tok = load_tokenizer(path, TokenizerImpl::kAuto);
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  sentencepiece::SentencePieceProcessor lib;
  ASSERT_TRUE(lib.Load(path).ok());
  // [▁a, ▁a] -> " a a" without the first space (dummy prefix): "a a".
  // [<s>, ▁a] -> control invisible, and nothing printed yet: "a"; kept: "<s> a" (text no longer empty).
  // [▁, <0xC3>, <0xA9>, b▁] -> "" (the first ▁ consumed), "é", "b ": "éb ".
  // [<0xC3>] -> a cut character: U+FFFD. [<0xC3>, <0xC3>, <0xA9>] -> U+FFFD then "é".
  // [<unk>, ▁a] -> " ⁇ " then " a" (text not empty any more): " ⁇  a".
  // [▁, ▁a] -> the first ▁ consumed, then " a" keeps its space: " a".
  const std::string kRep = "\xef\xbf\xbd", kUnk = " \xe2\x81\x87 ";
  const std::vector<std::tuple<V, std::string, std::string>> cases = {
      {{261, 261}, "a a", "a a"},
      {{1, 261}, "a", "<s> a"},
      {{259, 3 + 0xc3, 3 + 0xa9, 262}, "\xc3\xa9" "b ", "\xc3\xa9" "b "},
      {{3 + 0xc3}, kRep, kRep},
      {{3 + 0xc3, 3 + 0xc3, 3 + 0xa9}, kRep + "\xc3\xa9", kRep + "\xc3\xa9"},
      {{0, 261}, kUnk + " a", kUnk + " a"},
      {{259, 261}, " a", " a"},
      {{}, "", ""}};
  for (const auto& [ids, skipped, kept] : cases) {
    auto a = (*tok)->decode(ids, true);
    auto b = (*tok)->decode(ids, false);
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    EXPECT_EQ(*a, skipped);
    EXPECT_EQ(*b, kept);
    std::string want;
    ASSERT_TRUE(lib.Decode(std::vector<int>(ids.begin(), ids.end()), &want).ok());
    EXPECT_EQ(*a, want) << "library";
  }
  EXPECT_FALSE((*tok)->decode(V{263}, true).is_ok());
}

TEST(SpmModelProto, RejectsTruncatedBytes) {
  std::string bytes = hand_model(model_a_pieces(), 2, false, false);
  auto r = parse_spm_model_proto(std::string_view(bytes).substr(0, 7));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
}

// ---------------------------------------------------------------------------------------------
// Trained models against the library.

struct TrainedModel {
  std::string name, path;
  std::unique_ptr<Tokenizer> lib, fast;
};

class FastSpmTrained : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    docs_ = new std::vector<std::string>(testing_corpus::prose_documents(3 << 20));
    code_ = new std::vector<std::string>(testing_corpus::code_documents(1 << 20));
    models_ = new std::vector<TrainedModel>();
    std::string dir = std::string(LONGCTX_TEST_TMP) + "/tokenizer";
    std::filesystem::create_directories(dir);
    // Training text: one paragraph-ish line per line, prose and code. Models are trained once per
    // build tree (gtest_discover_tests runs each test in its own process, possibly two at a time):
    // each process trains under a private prefix and renames the result into place.
    const std::string tag = std::to_string(::getpid());
    std::string train;
    for (const auto* set : {docs_, code_})
      for (const auto& d : *set) train += d.substr(0, 200000) + "\n";
    if (!std::filesystem::exists(dir + "/train.txt")) {
      std::ofstream(dir + "/train.txt." + tag, std::ios::binary) << train;
      std::filesystem::rename(dir + "/train.txt." + tag, dir + "/train.txt");
    }
    auto train_once = [&](const std::string& name, const std::function<std::string(const std::string&)>& fn) {
      if (std::filesystem::exists(dir + "/" + name + ".model")) return std::string();
      std::string prefix = dir + "/" + name + "." + tag;
      std::string err = fn(prefix);
      if (err.empty()) std::filesystem::rename(prefix + ".model", dir + "/" + name + ".model");
      return err;
    };
    // (1) the project's trainer (train_sentencepiece_bpe, LLaMA-2-like settings)
    std::string err = train_once("project", [&](const std::string& prefix) {
      TokenizerTrainConfig cfg;
      cfg.input_files = {dir + "/train.txt"};
      cfg.model_prefix = prefix;
      cfg.vocab_size = 4000;
      cfg.input_sentence_size = 200000;
      return train_sentencepiece_bpe(cfg).message();
    });
    // (2) LLaMA-2's trainer and normaliser settings (its tokenizer.model's TrainerSpec/NormalizerSpec),
    // smaller vocabulary.
    if (err.empty())
      err = train_once("llama2", [&](const std::string& prefix) {
        auto st = sentencepiece::SentencePieceTrainer::Train(
            "--input=" + dir + "/train.txt --model_prefix=" + prefix +
            " --model_type=bpe --vocab_size=6000 --self_test_sample_size=0 --character_coverage=0.99995 "
            "--input_sentence_size=200000 --shuffle_input_sentence=true --max_sentencepiece_length=16 "
            "--split_by_unicode_script=true --split_by_whitespace=true --split_by_number=true --split_digits=true "
            "--treat_whitespace_as_suffix=false --allow_whitespace_only_pieces=true --byte_fallback=true "
            "--vocabulary_output_piece_score=true --hard_vocab_limit=true --use_all_vocab=false "
            "--normalization_rule_name=identity --add_dummy_prefix=true --remove_extra_whitespaces=false "
            "--unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --max_sentence_length=4192 --num_threads=2 --minloglevel=2");
        return st.ok() ? std::string() : st.ToString();
      });
    // (3) no byte fallback, spaces collapsed, user-defined and control symbols (unk collapsing, frozen
    // symbols, the whitespace-removal path).
    if (err.empty())
      err = train_once("plain", [&](const std::string& prefix) {
        auto st = sentencepiece::SentencePieceTrainer::Train(
            "--input=" + dir + "/train.txt --model_prefix=" + prefix +
            " --model_type=bpe --vocab_size=3000 --character_coverage=0.98 --input_sentence_size=200000 "
            "--normalization_rule_name=identity --remove_extra_whitespaces=true --byte_fallback=false "
            "--user_defined_symbols=<sep>,the,\xe2\x96\x81in --control_symbols=<cls> --num_threads=2 --minloglevel=2");
        return st.ok() ? std::string() : st.ToString();
      });
    // (4) SentencePiece's defaults: nmt_nfkc normalisation (precompiled charsmap), extra spaces removed;
    // (5) nmt_nfkc_cf (case folding) with a user-defined symbol containing a space.
    if (err.empty())
      err = train_once("nfkc", [&](const std::string& prefix) {
        auto st = sentencepiece::SentencePieceTrainer::Train(
            "--input=" + dir + "/train.txt --model_prefix=" + prefix +
            " --model_type=bpe --vocab_size=3000 --input_sentence_size=200000 --byte_fallback=true "
            "--num_threads=2 --minloglevel=2");
        return st.ok() ? std::string() : st.ToString();
      });
    if (err.empty())
      err = train_once("nfkc_cf", [&](const std::string& prefix) {
        // kwargs form: a user-defined symbol with a space cannot go through the flag string.
        auto st = sentencepiece::SentencePieceTrainer::Train(std::unordered_map<std::string, std::string>{
            {"input", dir + "/train.txt"}, {"model_prefix", prefix}, {"model_type", "bpe"}, {"vocab_size", "2500"},
            {"input_sentence_size", "200000"}, {"normalization_rule_name", "nmt_nfkc_cf"},
            {"user_defined_symbols", "a b,<sep>,x\x0b"}, {"num_threads", "2"}, {"minloglevel", "2"}});
        return st.ok() ? std::string() : st.ToString();
      });
    if (!err.empty()) {
      setup_error_ = new std::string(err);
      return;
    }
    for (const char* name : {"project", "llama2", "plain", "nfkc", "nfkc_cf"}) {
      TrainedModel m;
      m.name = name;
      m.path = dir + "/" + name + ".model";
      auto lib = load_tokenizer(m.path, TokenizerImpl::kSentencePiece);
      auto fast = load_tokenizer(m.path, TokenizerImpl::kFast);
      if (!lib.is_ok() || !fast.is_ok()) {
        setup_error_ = new std::string(name + std::string(": ") + lib.status().message() + fast.status().message());
        return;
      }
      m.lib = std::move(lib).value();
      m.fast = std::move(fast).value();
      models_->push_back(std::move(m));
    }
  }
  static void TearDownTestSuite() {
    delete docs_;
    delete code_;
    delete models_;
    delete setup_error_;
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    ASSERT_GE(docs_->size(), 5u) << "too little local text found for the test corpus";
  }

  // Compares the two encoders; returns false (and reports) at the first difference.
  static bool same(const TrainedModel& m, std::string_view text, const char* what) {
    std::vector<uint32_t> a, b;
    EXPECT_TRUE(m.lib->encode(text, &a).is_ok());
    EXPECT_TRUE(m.fast->encode(text, &b).is_ok());
    if (a == b) return true;
    size_t k = 0;
    while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
    ADD_FAILURE() << m.name << ", " << what << ": ids differ at token " << k << " of " << a.size() << " (library) / "
                  << b.size() << " (fast); library id " << (k < a.size() ? static_cast<int64_t>(a[k]) : -1)
                  << " fast id " << (k < b.size() ? static_cast<int64_t>(b[k]) : -1) << "; text ("
                  << text.size() << " bytes) starts '" << text.substr(0, 120) << "'";
    return false;
  }

  static std::vector<std::string>* docs_;
  static std::vector<std::string>* code_;
  static std::vector<TrainedModel>* models_;
  static std::string* setup_error_;
};
std::vector<std::string>* FastSpmTrained::docs_ = nullptr;
std::vector<std::string>* FastSpmTrained::code_ = nullptr;
std::vector<TrainedModel>* FastSpmTrained::models_ = nullptr;
std::string* FastSpmTrained::setup_error_ = nullptr;

TEST_F(FastSpmTrained, ReaderAgreesWithLibraryOnVocabulary) {
  for (const auto& m : *models_) {
    auto bytes = read_file(m.path);
    ASSERT_TRUE(bytes.is_ok());
    auto proto = parse_spm_model_proto(*bytes);
    ASSERT_TRUE(proto.is_ok()) << proto.status().message();
    ASSERT_EQ(proto->pieces.size(), m.lib->vocab_size()) << m.name;
    for (uint32_t i = 0; i < m.lib->vocab_size(); ++i) ASSERT_EQ(proto->pieces[i].piece, m.lib->piece(i));
    EXPECT_EQ(proto->model_type, SpmModelType::kBpe);
    bool nfkc = m.name.rfind("nfkc", 0) == 0;
    EXPECT_EQ(proto->byte_fallback, m.name != "plain" && m.name != "nfkc_cf") << m.name;
    EXPECT_EQ(proto->remove_extra_whitespaces, m.name == "plain" || nfkc) << m.name;
    EXPECT_TRUE(proto->add_dummy_prefix);
    EXPECT_EQ(proto->precompiled_charsmap.empty(), !nfkc) << m.name;
    EXPECT_EQ(proto->normalizer_name, nfkc ? m.name == "nfkc" ? "nmt_nfkc" : "nmt_nfkc_cf" : "identity") << m.name;
    EXPECT_EQ(m.fast->impl_name(), "fast-bpe");
  }
}

TEST_F(FastSpmTrained, IdenticalIdsOnLocalDocuments) {
  for (const auto& m : *models_) {
    size_t n = 0;
    for (const auto* set : {docs_, code_}) {
      for (const auto& d : *set) {
        if (!same(m, d, "whole document")) return;
        // every line on its own too (different dummy-prefix contexts)
        size_t a = 0;
        while (a < d.size() && n < 20000) {
          size_t b = d.find('\n', a);
          if (b == std::string::npos) b = d.size();
          if (!same(m, std::string_view(d).substr(a, b - a), "line")) return;
          a = b + 1;
          ++n;
        }
      }
    }
  }
}

TEST_F(FastSpmTrained, ReferenceMergeLoopAgrees) {
  auto bytes = read_file((*models_)[1].path);
  ASSERT_TRUE(bytes.is_ok());
  auto fast = compile_or_die(*bytes);
  for (size_t i = 0; i < docs_->size() && i < 40; ++i) {
    std::vector<uint32_t> a, b;
    fast->encode((*docs_)[i], &a);
    fast->encode_reference((*docs_)[i], &b);
    ASSERT_EQ(a, b) << "document " << i;
  }
}

TEST_F(FastSpmTrained, DifferentialFuzzBounded) {
  // Bounded by count only (a time bound would make what is tested depend on the machine's speed),
  // deterministic inputs from a fixed seed; the long fuzz runs are in docs/tokenizer.md.
  std::vector<std::string> specials = {"<s>", "</s>", "<unk>", "<0x41>", "<sep>", "<cls>", "the", kSp + "in",
                                       "\xe2\x96\x81\xe2\x96\x81", "  \n  ", "a b", "A  B", "x\x0b", " a b ",
                                       // NFKC material: full-width, ligature, ideographic space, combining marks
                                       "\xef\xbc\xa1\xef\xbc\x91", "\xef\xac\x81", "\xe3\x80\x80", "e\xcc\x81",
                                       "\xe2\x85\xab", "\xc2\xa0", "\xe2\x80\x8b"};
  for (const auto& m : *models_) {
    Rng rng(20240501);
    for (int i = 0; i < 400; ++i) {
      size_t len = rng.below(8) == 0 ? 1 + rng.below(20000) : 1 + rng.below(300);
      std::string text = testing_fuzz::fuzz_text(rng, len, *docs_, specials);
      if (!same(m, text, "fuzz input")) return;
    }
  }
}

TEST_F(FastSpmTrained, LongDocumentAndThreads) {
  // One multi-megabyte document (all docs joined), encoded on two threads at once.
  std::string big;
  for (const auto& d : *docs_) big += d;
  const auto& m = (*models_)[1];
  std::vector<uint32_t> ref;
  ASSERT_TRUE(m.lib->encode(big, &ref).is_ok());
  std::vector<uint32_t> a, b;
  std::thread t1([&] { ASSERT_TRUE(m.fast->encode(big, &a).is_ok()); });
  std::thread t2([&] { ASSERT_TRUE(m.fast->encode(big, &b).is_ok()); });
  t1.join();
  t2.join();
  EXPECT_EQ(a, ref);
  EXPECT_EQ(b, ref);
}

// Decoding identical to the library's Decode on encodings, random id lists (control, unknown and
// byte pieces anywhere, characters cut), and runs of byte pieces.
TEST_F(FastSpmTrained, DecodeIdenticalToLibrary) {
  for (const auto& m : *models_) {
    sentencepiece::SentencePieceProcessor lib;
    ASSERT_TRUE(lib.Load(m.path).ok());
    std::vector<V> lists;
    for (size_t i = 0; i < docs_->size() && i < 30; ++i) lists.push_back(enc(*m.fast, (*docs_)[i]));
    Rng rng(99);
    const uint32_t n = m.fast->vocab_size();
    for (int i = 0; i < 3000; ++i) {
      V ids;
      size_t len = rng.below(40);
      for (size_t k = 0; k < len; ++k) {
        uint64_t r = rng.below(10);
        ids.push_back(r < 2 ? static_cast<uint32_t>(rng.below(3)) : r < 5 ? static_cast<uint32_t>(3 + rng.below(256))
                                                                            : static_cast<uint32_t>(rng.below(n)));
      }
      lists.push_back(ids);
    }
    for (size_t i = 0; i < 300; ++i) {  // slices of encodings: cut characters at both ends
      const V& e = lists[i % 30];
      if (e.empty()) continue;
      size_t a = rng.below(e.size()), b = a + rng.below(std::min<size_t>(e.size() - a, 200)) + 1;
      lists.emplace_back(e.begin() + a, e.begin() + b);
    }
    for (const V& ids : lists) {
      std::string want;
      ASSERT_TRUE(lib.Decode(std::vector<int>(ids.begin(), ids.end()), &want).ok());
      auto got = m.fast->decode(ids, true);
      ASSERT_TRUE(got.is_ok()) << got.status().message();
      ASSERT_EQ(*got, want) << m.name << ": " << ids.size() << " ids starting " << (ids.empty() ? -1 : int64_t(ids[0]));
    }
  }
}

TEST_F(FastSpmTrained, AutoPicksFastAndUnigramFallsBack) {
  auto autot = load_tokenizer((*models_)[0].path, TokenizerImpl::kAuto);
  ASSERT_TRUE(autot.is_ok());
  EXPECT_EQ((*autot)->impl_name(), "fast-bpe");
  EXPECT_EQ((*autot)->impl_note(), "");
  // A unigram model: the library serves it, and says why.
  std::string dir = std::string(LONGCTX_TEST_TMP) + "/tokenizer";
  std::string prefix = dir + "/unigram." + std::to_string(::getpid());
  auto st = sentencepiece::SentencePieceTrainer::Train("--input=" + dir + "/train.txt --model_prefix=" + prefix +
                                                       " --model_type=unigram --vocab_size=1000 "
                                                       "--input_sentence_size=20000 --minloglevel=2");
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto uni = load_tokenizer(prefix + ".model", TokenizerImpl::kAuto);
  ASSERT_TRUE(uni.is_ok());
  EXPECT_EQ((*uni)->impl_name(), "sentencepiece");
  EXPECT_NE((*uni)->impl_note().find("not BPE"), std::string::npos) << (*uni)->impl_note();
  std::vector<uint32_t> a, b;
  ASSERT_TRUE((*uni)->encode("A unigram model is still encoded.", &a).is_ok());
  auto lib = load_tokenizer(prefix + ".model", TokenizerImpl::kSentencePiece);
  ASSERT_TRUE(lib.is_ok());
  ASSERT_TRUE((*lib)->encode("A unigram model is still encoded.", &b).is_ok());
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace longctx
