// Scores of a model's answer against the expected answer (paper.md "Needle in a haystack",
// "Score"), and the scores of the retrieval tasks (docs/evaluation.md "Tasks").
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace longctx::eval {

// Lowercased ASCII words of `text`: runs of letters and digits (every other byte separates
// words; bytes >= 0x80 are kept inside words so non-English text still forms words). This is the
// tokenisation of the ROUGE reference implementation (lowercase, non-alphanumeric -> space,
// split), which both scores below use.
std::vector<std::string> score_words(std::string_view text);

// The paper's needle score: the share of the answer's words found among the response's words,
// both lowercased ("eat a sandwich and sit in dolores park on a sunny day" against the response).
// Words of the answer are counted with repetition ("a" twice above, out of 12 words): each
// occurrence counts as found when the response holds that word at all. Empty answer: 0.
double word_recall(std::string_view response, std::string_view answer);

// ROUGE-1 F-measure: unigram overlap (each word counted min(times in reference, times in
// candidate)) over the candidate's words (precision) and the reference's words (recall),
// F = 2PR / (P + R); 0 when either side has no words or nothing overlaps.
double rouge1_f(std::string_view candidate, std::string_view reference);

// Share of `values` that appear among the response's words (multikey: one value; multivalue:
// all values of the asked key; passkey: the key). Values are compared as lowercased words.
double values_found(std::string_view response, const std::vector<std::string>& values);

}  // namespace longctx::eval
