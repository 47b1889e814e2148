// `longctx model ...` and `longctx generate` through CLI11 exactly as main() runs them, plus the
// .npy header against bytes numpy writes (worked out from the NPY 1.0 spec).
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>

#include "cli/cmd_model.h"
#include "core/file_io.h"
#include "model/checkpoint.h"
#include "model/generate.h"
#include "model/npy.h"
#include "tokenizer/tokenizer.h"

using namespace longctx;
using namespace longctx::model;

namespace {
void run_cli(std::vector<std::string> args) {
  CLI::App app{"longctx"};
  cli::register_model_commands(app);
  std::vector<std::string> rev(args.rbegin(), args.rend());
  app.parse(rev);  // CLI11 takes the arguments reversed
}
}  // namespace

TEST(Npy, HeaderMatchesNumpy) {
  // numpy.save(np.zeros((2,3), '<f4')): 10 fixed bytes + 118-byte dict = 128
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string expected = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict + std::string(117 - dict.size(), ' ') + "\n";
  EXPECT_EQ(npy_header_f32({2, 3}), expected);
  EXPECT_EQ(npy_header_f32({2, 3}).size(), 128u);
  EXPECT_NE(npy_header_f32({5}).find("'shape': (5,), }"), std::string::npos);
}

TEST(Cli, InitInfoForwardExportAndGenerate) {
  const std::string dir = std::string(LONGCTX_TEST_TMP) + "/cli_model";
  std::filesystem::remove_all(dir);  // outputs are never replaced without --overwrite: start empty
  ASSERT_TRUE(make_dirs(dir).is_ok());
  ASSERT_TRUE(write_file_atomic(dir + "/config.json", R"({"vocab_size": 30, "hidden_size": 16,
      "intermediate_size": 24, "num_hidden_layers": 2, "num_attention_heads": 2,
      "num_key_value_heads": 1, "max_position_embeddings": 64, "eos_token_id": 2})")
                  .is_ok());
  ASSERT_NO_THROW(run_cli({"model", "init", "--config", dir + "/config.json", "--seed", "5", "--std", "0.5",
                           "--out", dir + "/m"}));
  auto m = load_checkpoint(dir + "/m");
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  // same seed, same weights
  LlamaModel ref = std::move(LlamaModel::create(m->config()).value());
  init_params(m->config(), 5, 0.5f, ref.params());
  EXPECT_EQ(std::memcmp(ref.params(), m->params(), m->num_params() * 4), 0);

  ::testing::internal::CaptureStdout();
  ASSERT_NO_THROW(run_cli({"model", "info", dir + "/m"}));
  const std::string info = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(info.find(fmt::format("parameters     {} ", m->num_params())), std::string::npos) << info;

  ASSERT_NO_THROW(run_cli({"model", "forward", "--model", dir + "/m", "--ids", "1,7,3,29", "--out",
                           dir + "/logits.npy"}));
  auto npy = read_file(dir + "/logits.npy");
  ASSERT_TRUE(npy.is_ok());
  std::vector<int32_t> ids = {1, 7, 3, 29};
  std::vector<float> logits(4 * 30);
  auto score = ScoreSession::create(*m);
  ASSERT_TRUE(score.is_ok());
  Batch batch;
  batch.inputs = ids.data(), batch.B = 1, batch.T = 4;
  ASSERT_TRUE(score->logits(batch, logits.data()).is_ok());
  EXPECT_EQ(*npy, npy_header_f32({4, 30}) + std::string((const char*)logits.data(), logits.size() * 4));

  ASSERT_NO_THROW(run_cli({"model", "export-gguf", dir + "/m", "--out", dir + "/m.gguf"}));
  auto gguf = read_file(dir + "/m.gguf");
  ASSERT_TRUE(gguf.is_ok());
  EXPECT_EQ(gguf->substr(0, 4), "GGUF");

  SamplingOptions so;
  so.max_new_tokens = 6;
  so.stop_ids = {2};
  auto want = generate(*m, {1, 4, 9}, so);
  std::string expect;
  for (size_t i = 0; i < want->tokens.size(); i++) expect += (i ? "," : "") + std::to_string(want->tokens[i]);
  ::testing::internal::CaptureStdout();
  ASSERT_NO_THROW(run_cli({"generate", "--model", dir + "/m", "--prompt-ids", "1,4,9", "--max-new-tokens",
                           "6", "--print-ids"}));
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), expect + "\n");

  // errors end with exit code 1
  EXPECT_THROW(run_cli({"model", "forward", "--model", dir + "/m", "--ids", "1,x", "--out", dir + "/e.npy"}),
               CLI::RuntimeError);
  EXPECT_THROW(run_cli({"model", "info", dir + "/missing"}), CLI::RuntimeError);
}

TEST(Cli, GenerateFromTextPromptWithTokenizer) {
  const std::string dir = std::string(LONGCTX_TEST_TMP) + "/cli_tok";
  std::filesystem::remove_all(dir);  // outputs are never replaced without --overwrite: start empty
  ASSERT_TRUE(make_dirs(dir).is_ok());
  std::string text;
  for (int i = 0; i < 200; i++)
    text += "the quick brown fox jumps over the lazy dog " + std::to_string(i % 17) + "\n";
  ASSERT_TRUE(write_file_atomic(dir + "/text.txt", text).is_ok());
  // trained with the SentencePiece library directly (the skeleton's training wrapper on this
  // branch passes a flag this Debian sentencepiece does not know)
  {
    const auto st = sentencepiece::SentencePieceTrainer::Train(
        "--input=" + dir + "/text.txt --model_prefix=" + dir + "/tokenizer --model_type=bpe "
        "--vocab_size=300 --byte_fallback=true --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 "
        "--num_threads=1 --minloglevel=2");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  auto tok = load_tokenizer(dir + "/tokenizer.model");
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  LlamaConfig c;
  c.vocab_size = 300, c.hidden_size = 16, c.intermediate_size = 24, c.num_hidden_layers = 1;
  c.num_attention_heads = 2, c.num_key_value_heads = 2, c.eos_token_id = 2;
  auto m = LlamaModel::create(c);
  init_params(c, 9, 0.5f, m->params());
  ASSERT_TRUE(save_checkpoint(*m, dir + "/m", {}).is_ok());
  // expected: BOS + encode(prompt), greedy, decoded
  std::vector<uint32_t> ids;
  ASSERT_TRUE((*tok)->encode("the lazy fox", &ids).is_ok());
  std::vector<int32_t> prompt = {(*tok)->bos_id()};
  for (uint32_t id : ids) prompt.push_back((int32_t)id);
  SamplingOptions so;
  so.max_new_tokens = 10;
  so.stop_ids = {2};
  auto want = generate(*m, prompt, so);
  ASSERT_TRUE(want.is_ok());
  std::vector<uint32_t> gen(want->tokens.begin(), want->tokens.end());
  auto want_text = (*tok)->decode(gen, /*skip_special=*/true);
  ASSERT_TRUE(want_text.is_ok());
  ::testing::internal::CaptureStdout();
  ASSERT_NO_THROW(run_cli({"generate", "--model", dir + "/m", "--tokenizer", dir + "/tokenizer.model",
                           "--prompt", "the lazy fox", "--max-new-tokens", "10"}));
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), *want_text + "\n");
  // GGUF export carries the tokenizer: all 300 pieces, in id order
  ASSERT_NO_THROW(run_cli({"model", "export-gguf", dir + "/m", "--tokenizer", dir + "/tokenizer.model",
                           "--out", dir + "/m.gguf"}));
  auto gguf = read_file(dir + "/m.gguf");
  ASSERT_TRUE(gguf.is_ok());
  const size_t at = gguf->find("tokenizer.ggml.tokens");
  ASSERT_NE(at, std::string::npos);
  uint32_t type, elem;
  uint64_t n;
  std::memcpy(&type, gguf->data() + at + 21, 4);
  std::memcpy(&elem, gguf->data() + at + 25, 4);
  std::memcpy(&n, gguf->data() + at + 29, 8);
  EXPECT_EQ(type, 9u);
  EXPECT_EQ(elem, 8u);
  EXPECT_EQ(n, 300u);
  const std::string piece = (*tok)->piece(5);
  EXPECT_NE(gguf->find(piece), std::string::npos);
}
