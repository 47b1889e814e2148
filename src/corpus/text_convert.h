// Text extraction used by the sample corpus builder: HTML -> text, roff (man pages) -> text,
// POD -> text, Latin-1 -> UTF-8 repair, and paragraph splitting.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace longctx {

std::string html_to_text(std::string_view html);
std::string roff_to_text(std::string_view roff);
std::string pod_to_text(std::string_view pod);
// Returns `s` if it is valid UTF-8, else the bytes read as Latin-1 and re-encoded as UTF-8.
std::string repair_utf8(std::string_view s);
// Collapses 3+ newlines to 2 and trims trailing spaces on lines.
std::string tidy_text(std::string_view s);
// Splits text at blank lines into paragraphs (each without trailing newlines).
std::vector<std::string> split_paragraphs(std::string_view s);

}  // namespace longctx
