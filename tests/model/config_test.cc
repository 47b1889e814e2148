// config.json: HF LLaMA fields in, every rope_scaling spelling, rope_parameters, round trip.
#include <gtest/gtest.h>

#include "core/file_io.h"
#include "model/config.h"

using namespace longctx::model;

TEST(Config, ReadsLlama2StyleConfig) {
  auto j = nlohmann::json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000,
    "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
    "num_attention_heads": 32, "rms_norm_eps": 1e-05, "max_position_embeddings": 4096,
    "rope_theta": 10000.0, "rope_scaling": {"type": "dynamic", "factor": 10.0},
    "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"})");
  auto c = config_from_json(j);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->num_key_value_heads, 32);  // absent -> num_attention_heads
  EXPECT_EQ(c->head_dim_or_default(), 128);
  EXPECT_EQ(c->rope_scaling.type, RopeType::kDynamic);
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 10.0);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-5);
  EXPECT_EQ(c->torch_dtype, "bfloat16");
}

TEST(Config, ReadsLlama3RopeAndEosList) {
  auto j = nlohmann::json::parse(R"({
    "vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072,
    "rope_theta": 500000.0, "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"}})");
  auto c = config_from_json(j);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->rope_scaling.type, RopeType::kLlama3);
  EXPECT_EQ(c->rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c->eos_token_id, 128001);
  EXPECT_EQ(c->num_key_value_heads, 8);
}

TEST(Config, ReadsRopeParametersBlock) {
  auto j = nlohmann::json::parse(R"({
    "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32,
    "rope_parameters": {"rope_type": "yarn", "rope_theta": 1000000.0, "factor": 4.0,
                        "original_max_position_embeddings": 32768, "beta_fast": 16}})");
  auto c = config_from_json(j);
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->rope_scaling.type, RopeType::kYarn);
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c->rope_scaling.beta_fast, 16.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.beta_slow, 1.0);
  EXPECT_EQ(c->head_dim_or_default(), 32);
  EXPECT_EQ(c->q_dim(), 128);
}

TEST(Config, RejectsBadValuesWithTheFieldName) {
  auto j = nlohmann::json::parse(R"({"hidden_size": 64, "num_attention_heads": 6,
                                     "num_key_value_heads": 4})");
  auto c = config_from_json(j);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("num_key_value_heads"), std::string::npos);
  auto j2 = nlohmann::json::parse(R"({"rope_scaling": {"type": "su", "factor": 2}})");
  auto c2 = config_from_json(j2);
  ASSERT_FALSE(c2.is_ok());
  EXPECT_NE(c2.status().message().find("'su'"), std::string::npos);
  auto j3 = nlohmann::json::parse(R"({"hidden_size": "big"})");
  auto c3 = config_from_json(j3);
  ASSERT_FALSE(c3.is_ok());
  EXPECT_NE(c3.status().message().find("hidden_size"), std::string::npos);
}

TEST(Config, WriteThenReadRoundTrips) {
  LlamaConfig c;
  c.vocab_size = 50, c.hidden_size = 16, c.intermediate_size = 40, c.num_hidden_layers = 3;
  c.num_attention_heads = 4, c.num_key_value_heads = 2, c.rope_theta = 5e5;
  c.rope_scaling.type = RopeType::kYarn;
  c.rope_scaling.factor = 8;
  c.rope_scaling.original_max_position_embeddings = 4096;
  c.tie_word_embeddings = true;
  const std::string dir = std::string(LONGCTX_TEST_TMP) + "/model_config";
  ASSERT_TRUE(longctx::make_dirs(dir).is_ok());
  ASSERT_TRUE(write_config(dir + "/config.json", c).is_ok());
  auto r = read_config(dir + "/config.json");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(config_to_json(*r), config_to_json(c));
  EXPECT_TRUE(r->tie_word_embeddings);
  EXPECT_EQ(r->rope_scaling.type, RopeType::kYarn);
}

// Found by fuzzing (fuzz/config.cc, docs/reliability.md): 1e10 converted to int was undefined
// behaviour, and 4294967304 (2^32 + 8) was silently read as 8.
TEST(Config, IntegersOutsideTheirTypeAreRefusedNotWrapped) {
  for (const char* text : {R"({"vocab_size": 1e10})", R"({"vocab_size": 4294967304})", R"({"vocab_size": -2147483649})",
                           R"({"hidden_size": 2.5})", R"({"eos_token_id": [4294967298, 2]})",
                           R"({"rope_scaling": {"type": "yarn", "factor": 2, "original_max_position_embeddings": 1e30}})"}) {
    auto c = config_from_json(nlohmann::json::parse(text));
    ASSERT_FALSE(c.is_ok()) << text;
    EXPECT_NE(c.status().message().find("expected an integer in ["), std::string::npos) << c.status().message();
  }
  auto ok = config_from_json(nlohmann::json::parse(R"({"vocab_size": 2147483647, "eos_token_id": [7, 2]})"));
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  EXPECT_EQ(ok->vocab_size, 2147483647);
  EXPECT_EQ(ok->eos_token_id, 7);
}
