// Reading a report's tables back: the body rows of <table id="...">, each cell's text with the
// HTML escapes undone, for checking the page against the JSON it was built from.
#pragma once
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace longctx::testing {

inline std::string unescape(std::string s) {
  for (const auto& [from, to] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (size_t p; (p = s.find(from)) != std::string::npos;) s.replace(p, std::string(from).size(), to);
  }
  return s;
}

// The body rows of <table id="id">, each cell's text unescaped.
inline std::vector<std::vector<std::string>> table_rows(const std::string& html, const std::string& id) {
  const size_t start = html.find("<table id=\"" + id + "\">");
  if (start == std::string::npos) return {};
  const size_t body = html.find("<tbody>", start), end = html.find("</table>", start);
  const std::string t = html.substr(body, end - body);
  std::vector<std::vector<std::string>> rows;
  const std::regex row_re("<tr>(.*?)</tr>"), cell_re("<td[^>]*>(.*?)</td>");
  for (auto it = std::sregex_iterator(t.begin(), t.end(), row_re); it != std::sregex_iterator(); ++it) {
    const std::string r = (*it)[1];
    std::vector<std::string> cells;
    for (auto c = std::sregex_iterator(r.begin(), r.end(), cell_re); c != std::sregex_iterator(); ++c) cells.push_back(unescape((*c)[1]));
    rows.push_back(std::move(cells));
  }
  return rows;
}

}  // namespace longctx::testing
