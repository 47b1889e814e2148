// The SentencePiece adapter must give exactly the ids of SentencePiece's own tools:
// `spm_encode` (line by line: it reads one sentence per line) and, for text that contains
// newlines, the library's Python binding (Debian's python3-sentencepiece) as an independent caller.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

using testing::run_command;
using testing::scratch_dir;
using testing::tiny_tokenizer;

std::vector<uint32_t> parse_ids(const std::string& line) {
  std::vector<uint32_t> v;
  std::istringstream in(line);
  uint32_t x;
  while (in >> x) v.push_back(x);
  return v;
}

const std::vector<std::string> kLines = {
    "the long context window model learns 128K positions",
    "digits 0123456789 and 2024-11-26 and 3.14159",
    "数据工程 扩展 上下文 窗口。",
    "Привет мир, café naïve Zählen",
    "emoji 🙂 and tabs\tand   three spaces",
    "",
    "  leading spaces",
};

TEST(SentencePieceAdapter, IdsEqualSpmEncodeLineByLine) {
  std::string model = tiny_tokenizer();
  auto tok = load_tokenizer(model);
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  std::string dir = scratch_dir("spm-adapter");
  std::string input;
  for (const auto& l : kLines) input += l + "\n";
  ASSERT_TRUE(write_file_atomic(dir + "/in.txt", input).is_ok());
  auto r = run_command("spm_encode --model=" + model + " --output_format=id < " + dir + "/in.txt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream out(r.output);
  std::string line;
  for (const auto& l : kLines) {
    ASSERT_TRUE(std::getline(out, line)) << "spm_encode printed fewer lines than given";
    std::vector<uint32_t> ours;
    ASSERT_TRUE((*tok)->encode(l, &ours).is_ok());
    EXPECT_EQ(ours, parse_ids(line)) << "line: '" << l << "'";
  }
}

TEST(SentencePieceAdapter, MultiLineTextEqualsPythonBinding) {
  std::string model = tiny_tokenizer();
  auto tok = load_tokenizer(model);
  ASSERT_TRUE(tok.is_ok());
  if (run_command("/usr/bin/python3 -c 'import sentencepiece'").exit_code != 0)
    GTEST_SKIP() << "python3-sentencepiece is not installed (scripts/setup.sh installs it)";
  std::string dir = scratch_dir("spm-adapter-py");
  std::string text = "first line 12\nsecond line\n\n数据 工程\n  indented\n";
  ASSERT_TRUE(write_file_atomic(dir + "/in.txt", text).is_ok());
  auto r = run_command("/usr/bin/python3 -c \"import sentencepiece as s; p=s.SentencePieceProcessor(model_file='" + model +
                       "'); print(' '.join(map(str, p.encode(open('" + dir + "/in.txt', encoding='utf-8').read()))))\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<uint32_t> ours;
  ASSERT_TRUE((*tok)->encode(text, &ours).is_ok());
  EXPECT_EQ(ours, parse_ids(r.output));
  // Newlines are not in the vocabulary: byte fallback gives <0x0A>.
  EXPECT_NE(std::find(ours.begin(), ours.end(), static_cast<uint32_t>(3 + 0x0A)), ours.end());
}

TEST(SentencePieceAdapter, EmptyInputAndRoundTrip) {
  auto tok = load_tokenizer(tiny_tokenizer());
  ASSERT_TRUE(tok.is_ok());
  std::vector<uint32_t> ids;
  ASSERT_TRUE((*tok)->encode("", &ids).is_ok());
  EXPECT_TRUE(ids.empty());
  std::string text = "the model 2024\n数据";
  ASSERT_TRUE((*tok)->encode(text, &ids).is_ok());
  auto back = (*tok)->decode(ids, /*skip_special=*/true);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, text);
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_EQ((*tok)->eos_id(), 2);
  EXPECT_EQ((*tok)->vocab_size(), 400u);
  std::vector<uint32_t> bad = {999999};
  EXPECT_FALSE((*tok)->decode(bad, true).is_ok());
}

TEST(SentencePieceAdapter, MissingOrCorruptModelIsAClearError) {
  auto r = load_tokenizer("/nonexistent/tokenizer.model");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("/nonexistent/tokenizer.model"), std::string::npos);
  std::string dir = scratch_dir("spm-bad");
  ASSERT_TRUE(write_file_atomic(dir + "/bad.model", "not a model").is_ok());
  auto b = load_tokenizer(dir + "/bad.model");
  ASSERT_FALSE(b.is_ok());
  EXPECT_NE(b.status().message().find("bad.model"), std::string::npos);
}

TEST(TokenizerTrain, SameInputSameModelBytes) {
  std::string dir = scratch_dir("spm-train-det");
  std::string text;
  for (int i = 0; i < 100; ++i) text += testing::fake_text(static_cast<uint64_t>(i), 300) + "\n";
  ASSERT_TRUE(write_file_atomic(dir + "/t.txt", text).is_ok());
  for (const char* name : {"a", "b"}) {
    TokenizerTrainConfig cfg;
    cfg.input_files = {dir + "/t.txt"};
    cfg.model_prefix = dir + "/" + name;
    cfg.vocab_size = 300;
    cfg.num_threads = 2;
    ASSERT_TRUE(train_sentencepiece_bpe(cfg).is_ok());
  }
  // The model file embeds the trainer's arguments (the output prefix differs), so compare the
  // learned vocabulary piece by piece.
  auto a = load_tokenizer(dir + "/a.model");
  auto b = load_tokenizer(dir + "/b.model");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  ASSERT_EQ((*a)->vocab_size(), (*b)->vocab_size());
  for (uint32_t i = 0; i < (*a)->vocab_size(); ++i) ASSERT_EQ((*a)->piece(i), (*b)->piece(i)) << "piece " << i;
}

}  // namespace
}  // namespace longctx
