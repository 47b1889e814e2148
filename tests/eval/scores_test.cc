// Scores against values worked out by hand (docs/evaluation.md "Scores").
#include <gtest/gtest.h>

#include "eval/needle.h"
#include "eval/scores.h"

using namespace longctx::eval;

TEST(Scores, WordsAreLowercasedAlphanumericRuns) {
  EXPECT_EQ(score_words("Dolores PARK! 2024-ok"), (std::vector<std::string>{"dolores", "park", "2024", "ok"}));
  EXPECT_TRUE(score_words(" .,;").empty());
}

TEST(Scores, WordRecallByHand) {
  // answer words: eat a sandwich and sit in dolores park on a sunny day (12, "a" twice);
  // the response holds eat, a, sandwich, in, park: 6 of the 12 (both "a"s count).
  EXPECT_DOUBLE_EQ(word_recall("I would eat a sandwich in the park.", kPaperAnswer), 6.0 / 12.0);
  EXPECT_DOUBLE_EQ(word_recall("Eat a sandwich and sit in Dolores Park on a sunny day.", kPaperAnswer), 1.0);
  EXPECT_DOUBLE_EQ(word_recall("Dolores Park", kPaperAnswer), 2.0 / 12.0);
  EXPECT_DOUBLE_EQ(word_recall("", kPaperAnswer), 0.0);
  EXPECT_DOUBLE_EQ(word_recall("anything", ""), 0.0);
  // a word only as part of another word does not count ("parking" is not "park")
  EXPECT_DOUBLE_EQ(word_recall("parking", "park"), 0.0);
}

TEST(Scores, Rouge1FByHand) {
  // candidate 8 words, reference 12; overlap eat, a (min(1,2)), sandwich, in, park = 5;
  // P = 5/8, R = 5/12, F = 2PR/(P+R) = 0.5
  EXPECT_NEAR(rouge1_f("I would eat a sandwich in the park.", kPaperAnswer), 0.5, 1e-12);
  // "the" twice in the candidate, once in the reference: overlap 2; P = R = 2/3
  EXPECT_NEAR(rouge1_f("the the cat", "the cat sat"), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(rouge1_f("the cat sat", "the cat sat"), 1.0, 1e-12);
  // candidate 1 word found; P = 1, R = 1/4, F = 2 * 0.25 / 1.25 = 0.4
  EXPECT_NEAR(rouge1_f("cat", "the cat sat down"), 0.4, 1e-12);
  EXPECT_EQ(rouge1_f("dog", "the cat"), 0.0);
  EXPECT_EQ(rouge1_f("", "the cat"), 0.0);
}

TEST(Scores, ValuesFound) {
  EXPECT_DOUBLE_EQ(values_found("The pass key is 48213.", {"48213"}), 1.0);
  EXPECT_DOUBLE_EQ(values_found("The pass key is 482130.", {"48213"}), 0.0);
  EXPECT_DOUBLE_EQ(values_found("1234567, 7654321 and 1111111", {"1234567", "2222222", "1111111", "7654321"}), 0.75);
}
