#include "eval/scores.h"

#include <algorithm>
#include <map>
#include <set>

namespace longctx::eval {

std::vector<std::string> score_words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
    if (word) {
      cur.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

double word_recall(std::string_view response, std::string_view answer) {
  std::vector<std::string> want = score_words(answer);
  if (want.empty()) return 0;
  std::vector<std::string> got = score_words(response);
  std::set<std::string> have(got.begin(), got.end());
  size_t found = 0;
  for (const std::string& w : want) found += have.count(w);
  return static_cast<double>(found) / static_cast<double>(want.size());
}

double rouge1_f(std::string_view candidate, std::string_view reference) {
  std::vector<std::string> cand = score_words(candidate), ref = score_words(reference);
  if (cand.empty() || ref.empty()) return 0;
  std::map<std::string, int> ref_counts, cand_counts;
  for (const auto& w : ref) ++ref_counts[w];
  for (const auto& w : cand) ++cand_counts[w];
  size_t overlap = 0;
  for (const auto& [w, n] : cand_counts) {
    auto it = ref_counts.find(w);
    if (it != ref_counts.end()) overlap += static_cast<size_t>(std::min(n, it->second));
  }
  if (overlap == 0) return 0;
  double p = static_cast<double>(overlap) / static_cast<double>(cand.size());
  double r = static_cast<double>(overlap) / static_cast<double>(ref.size());
  return 2 * p * r / (p + r);
}

double values_found(std::string_view response, const std::vector<std::string>& values) {
  if (values.empty()) return 0;
  std::vector<std::string> got = score_words(response);
  std::set<std::string> have(got.begin(), got.end());
  size_t found = 0;
  for (const std::string& v : values) {
    std::vector<std::string> vw = score_words(v);
    bool all = !vw.empty();
    for (const auto& w : vw) all = all && have.count(w) > 0;
    found += all ? 1 : 0;
  }
  return static_cast<double>(found) / static_cast<double>(values.size());
}

}  // namespace longctx::eval
