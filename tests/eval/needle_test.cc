// Needle construction against positions worked out by hand (paper.md "Insertion";
// docs/evaluation.md "Protocol").
#include <gtest/gtest.h>

#include "eval/needle.h"
#include "eval/text_codec.h"
#include "test_util.h"

using namespace longctx;
using namespace longctx::eval;

namespace {

// The word codec's ids for "A b. C d. E f.": A=0, " b"=1, "."=2, " C"=3, " d"=4, " E"=5, " f"=6,
// so the haystack is [0 1 2 3 4 2 5 6 2] with periods at 2, 5 and 8.
struct Fixture {
  std::unique_ptr<TextCodec> codec = word_codec();
  std::vector<int32_t> hay;
  Fixture() { EXPECT_TRUE(codec->encode("A b. C d. E f.", &hay).is_ok()); }
};
const std::vector<int32_t> kNeedle = {100, 101};

std::vector<int32_t> place(Fixture& f, int64_t length, int64_t buffer, double depth, int64_t* start) {
  std::vector<PlacedNeedle> n = {{kNeedle, depth}};
  auto r = insert_needles(f.hay, n, length, buffer, *f.codec);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  if (!r.is_ok()) return {};
  *start = r->needle_start[0];
  return r->context;
}

}  // namespace

TEST(NeedleInsert, HaystackIdsAsWorkedOut) {
  Fixture f;
  EXPECT_EQ(f.hay, (std::vector<int32_t>{0, 1, 2, 3, 4, 2, 5, 6, 2}));
  for (int i = 0; i < 9; ++i) EXPECT_EQ(f.codec->is_period(f.hay[i]), i == 2 || i == 5 || i == 8) << i;
}

TEST(NeedleInsert, BufferCutsTheHaystack) {
  Fixture f;
  int64_t s = -1;
  // length 12 - buffer 2 - needle 2 = 8 haystack tokens kept: [0 1 2 3 4 2 5 6]
  // depth 50: floor(8 * 0.5) = 4; token 3 (" C") is not a period, token 2 (".") is: insert at 3.
  EXPECT_EQ(place(f, 12, 2, 50, &s), (std::vector<int32_t>{0, 1, 2, 100, 101, 3, 4, 2, 5, 6}));
  EXPECT_EQ(s, 3);
  // A larger buffer keeps fewer tokens: 12 - 5 - 2 = 5 kept [0 1 2 3 4]; depth 50: floor(2.5) = 2,
  // the token before (index 1, " b") is no period, index 0 neither: the needle goes first.
  EXPECT_EQ(place(f, 12, 5, 50, &s), (std::vector<int32_t>{100, 101, 0, 1, 2, 3, 4}));
  EXPECT_EQ(s, 0);
}

TEST(NeedleInsert, SentenceEndRule) {
  Fixture f;
  int64_t s = -1;
  // 8 kept. depth 90: floor(7.2) = 7; index 6 is " E", index 5 is ".": insert at 6.
  EXPECT_EQ(place(f, 12, 2, 90, &s), (std::vector<int32_t>{0, 1, 2, 3, 4, 2, 100, 101, 5, 6}));
  EXPECT_EQ(s, 6);
  // depth 20: floor(1.6) = 1; index 0 is "A" (no period): walks back to the start.
  place(f, 12, 2, 20, &s);
  EXPECT_EQ(s, 0);
  // depth 40: floor(3.2) = 3; index 2 is "." already: stays at 3.
  place(f, 12, 2, 40, &s);
  EXPECT_EQ(s, 3);
}

TEST(NeedleInsert, DepthZeroAndHundred) {
  Fixture f;
  int64_t s = -1;
  EXPECT_EQ(place(f, 12, 2, 0, &s), (std::vector<int32_t>{100, 101, 0, 1, 2, 3, 4, 2, 5, 6}));
  EXPECT_EQ(s, 0);
  // depth 100 appends after the last kept token (" f", not a period) without walking back
  EXPECT_EQ(place(f, 12, 2, 100, &s), (std::vector<int32_t>{0, 1, 2, 3, 4, 2, 5, 6, 100, 101}));
  EXPECT_EQ(s, 8);
}

TEST(NeedleInsert, ShortHaystackRepeatsAndTooShortLengthFails) {
  Fixture f;
  int64_t s = -1;
  // 16 - 2 - 2 = 12 kept: the 9 tokens, then the first 3 again
  auto ctx = place(f, 16, 2, 100, &s);
  EXPECT_EQ(ctx, (std::vector<int32_t>{0, 1, 2, 3, 4, 2, 5, 6, 2, 0, 1, 2, 100, 101}));
  std::vector<PlacedNeedle> n = {{kNeedle, 50}};
  EXPECT_FALSE(insert_needles(f.hay, n, 4, 2, *f.codec).is_ok());  // nothing left after buffer + needle
  EXPECT_FALSE(insert_needles({}, n, 40, 2, *f.codec).is_ok());
}

TEST(NeedleInsert, SeveralNeedlesEachAtItsSentenceEnd) {
  Fixture f;
  // 12 - 2 - 2 - 2 = 6 kept [0 1 2 3 4 2]; needle X at 100 -> 6, needle Y at 50 -> floor(3) = 3 (index 2 is ".")
  std::vector<PlacedNeedle> n = {{{100}, 100}, {{200}, 50}};
  n[0].ids = {100, 101};
  n[1].ids = {200, 201};
  auto r = insert_needles(f.hay, n, 12, 2, *f.codec);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->context, (std::vector<int32_t>{0, 1, 2, 200, 201, 3, 4, 2, 100, 101}));
  EXPECT_EQ(r->needle_start, (std::vector<int64_t>{8, 3}));
}

TEST(NeedlePrompt, TemplateAroundTheContext) {
  auto codec = word_codec();
  std::vector<int32_t> hay;
  ASSERT_TRUE(codec->encode("A b. C d. E f.", &hay).is_ok());
  NeedleConfig cfg;
  cfg.lengths = {40};
  cfg.depths = {0};
  cfg.needle = "N x.";
  cfg.question = "Q?";
  cfg.answer = "x";
  cfg.prompt_template = "Book: {context} End. {question} A:";
  cfg.buffer_tokens = 30;
  cfg = cfg.resolved();
  auto p = build_cell_prompt(cfg, hay, 40, 0, *codec);
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  auto text = codec->decode(p->ids);
  ASSERT_TRUE(text.is_ok());
  // needle "\nN x.\n" = 4 tokens ("\nN", " x", ".", "\n"); 40 - 30 - 4 = 6 haystack tokens "A b. C d."
  EXPECT_EQ(*text, "Book: \nN x.\nA b. C d. End. Q? A:");
  // the text before {context} is "Book", ":", " " (a trailing space is a token of its own in this
  // codec): the needle starts at token 3
  EXPECT_EQ(p->needle_position, 3);
}

TEST(NeedleGrid, PaperDefaults) {
  auto L = parse_lengths("1K:128K:40");
  ASSERT_TRUE(L.is_ok());
  ASSERT_EQ(L->size(), 40u);
  EXPECT_EQ(L->front(), 1000);
  EXPECT_EQ((*L)[1], 4256);  // 1000 + 127000/39 = 4256.41 -> 4256
  EXPECT_EQ(L->back(), 128000);
  auto D = parse_depths("10");
  ASSERT_TRUE(D.is_ok());
  EXPECT_EQ(*D, (std::vector<double>{0, 11, 22, 33, 44, 56, 67, 78, 89, 100}));
  EXPECT_EQ(*parse_lengths("1000,2K"), (std::vector<int64_t>{1000, 2000}));
  EXPECT_FALSE(parse_lengths("1K:2K:0").is_ok());
  EXPECT_FALSE(parse_depths("0,101").is_ok());
  EXPECT_FALSE(parse_depths("nan,5").is_ok());
  // Percents marked with '%': one depth, or a list; "%" alone or "50%%" is not a number.
  EXPECT_EQ(*parse_depths("50%"), (std::vector<double>{50}));
  EXPECT_EQ(*parse_depths("0%,25,100%"), (std::vector<double>{0, 25, 100}));
  EXPECT_FALSE(parse_depths("%").is_ok());
  EXPECT_FALSE(parse_depths("50%%").is_ok());
  EXPECT_FALSE(parse_depths("101%").is_ok());
}

TEST(NeedlePrompt, RealTokenizerPeriods) {
  auto tok = load_tokenizer(longctx::testing::tiny_tokenizer());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  std::shared_ptr<const Tokenizer> shared(std::move(*tok));
  auto codec = tokenizer_codec(shared);
  std::vector<int32_t> ids;
  ASSERT_TRUE(codec->encode("the model. the data", &ids).is_ok());
  int periods = 0;
  for (int32_t id : ids) {
    auto t = codec->decode(std::vector<int32_t>{id});
    ASSERT_TRUE(t.is_ok());
    bool dot = t->find('.') != std::string::npos;
    // a token is a period exactly when its text is "." (possibly after a word boundary)
    if (codec->is_period(id)) {
      ++periods;
      EXPECT_TRUE(dot);
    }
  }
  EXPECT_EQ(periods, 1);
}
