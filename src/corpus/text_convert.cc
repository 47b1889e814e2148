#include "corpus/text_convert.h"

#include <cctype>
#include <cstring>

#include "corpus/corpus_reader.h"

namespace longctx {
namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) out += static_cast<char>(cp);
  else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x110000) {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += "\xEF\xBF\xBD";
  }
}

bool iequals_prefix(std::string_view s, size_t pos, const char* word) {
  size_t n = std::strlen(word);
  if (pos + n > s.size()) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[pos + i])) != word[i]) return false;
  return true;
}

}  // namespace

std::string repair_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (unsigned char c : s) append_utf8(out, c);
  return out;
}

std::string tidy_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  int newlines = 0;
  std::string line;
  auto flush_line = [&](bool nl) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    if (line.empty()) {
      if (nl && newlines < 2 && !out.empty()) {
        out += '\n';
        ++newlines;
      }
    } else {
      out += line;
      if (nl) out += '\n';
      newlines = nl ? 1 : 0;
    }
    line.clear();
  };
  for (char c : s) {
    if (c == '\n') flush_line(true);
    else line += c;
  }
  flush_line(false);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::vector<std::string> split_paragraphs(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t e = s.find("\n\n", pos);
    if (e == std::string_view::npos) e = s.size();
    std::string_view p = s.substr(pos, e - pos);
    size_t a = p.find_first_not_of("\n \t");
    if (a != std::string_view::npos) out.emplace_back(p.substr(a));
    pos = e + 2;
  }
  return out;
}

std::string html_to_text(std::string_view h) {
  std::string out;
  out.reserve(h.size() / 2);
  size_t i = 0;
  bool in_pre = false;
  bool space_pending = false;
  while (i < h.size()) {
    char c = h[i];
    if (c == '<') {
      if (h.compare(i, 4, "<!--") == 0) {
        size_t e = h.find("-->", i + 4);
        i = e == std::string_view::npos ? h.size() : e + 3;
        continue;
      }
      size_t e = h.find('>', i);
      if (e == std::string_view::npos) break;
      bool closing = i + 1 < h.size() && h[i + 1] == '/';
      size_t ns = i + 1 + (closing ? 1 : 0);
      if (!closing && (iequals_prefix(h, ns, "script") || iequals_prefix(h, ns, "style"))) {
        const char* end_tag = iequals_prefix(h, ns, "script") ? "</script" : "</style";
        size_t k = e;
        while (k < h.size() && !iequals_prefix(h, k, end_tag)) k = h.find('<', k + 1);
        size_t ke = k == std::string_view::npos ? std::string_view::npos : h.find('>', k);
        i = ke == std::string_view::npos ? h.size() : ke + 1;
        continue;
      }
      if (iequals_prefix(h, ns, "pre")) in_pre = !closing;
      static const char* blocks[] = {"p",  "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr",
                                     "dt", "dd",  "pre", "table", "ul", "ol", "dl", "section", "blockquote", "hr"};
      bool block = false;
      for (const char* b : blocks) {
        size_t n = std::strlen(b);
        if (iequals_prefix(h, ns, b) && ns + n < h.size() && !std::isalnum(static_cast<unsigned char>(h[ns + n]))) {
          block = true;
          break;
        }
      }
      if (block) {
        out += (iequals_prefix(h, ns, "li") && !closing) ? "\n- " : "\n\n";
        space_pending = false;
      } else if (iequals_prefix(h, ns, "td") || iequals_prefix(h, ns, "th")) {
        space_pending = true;
      }
      i = e + 1;
      continue;
    }
    if (c == '&') {
      size_t e = h.find(';', i);
      if (e != std::string_view::npos && e - i <= 10) {
        std::string_view ent = h.substr(i + 1, e - i - 1);
        uint32_t cp = 0;
        if (!ent.empty() && ent[0] == '#') {
          cp = (ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X'))
                   ? static_cast<uint32_t>(std::strtoul(std::string(ent.substr(2)).c_str(), nullptr, 16))
                   : static_cast<uint32_t>(std::strtoul(std::string(ent.substr(1)).c_str(), nullptr, 10));
        } else if (ent == "amp") cp = '&';
        else if (ent == "lt") cp = '<';
        else if (ent == "gt") cp = '>';
        else if (ent == "quot") cp = '"';
        else if (ent == "apos") cp = '\'';
        else if (ent == "nbsp") cp = ' ';
        else if (ent == "para") cp = 0xB6;
        else if (ent == "copy") cp = 0xA9;
        else if (ent == "mdash") cp = 0x2014;
        else if (ent == "ndash") cp = 0x2013;
        else if (ent == "hellip") cp = 0x2026;
        else if (ent == "rsquo") cp = 0x2019;
        else if (ent == "lsquo") cp = 0x2018;
        else if (ent == "ldquo") cp = 0x201C;
        else if (ent == "rdquo") cp = 0x201D;
        if (cp) {
          if (space_pending) out += ' ';
          space_pending = false;
          append_utf8(out, cp);
          i = e + 1;
          continue;
        }
      }
    }
    if (!in_pre && (c == '\n' || c == '\t' || c == '\r' || c == ' ')) {
      space_pending = true;
      ++i;
      continue;
    }
    if (space_pending && !out.empty() && out.back() != '\n') out += ' ';
    space_pending = false;
    out += c;
    ++i;
  }
  return tidy_text(out);
}

// Man page source: macro lines start with '.' or '\''; font escapes \fB \fI \fR \fP \f(CW.
std::string roff_to_text(std::string_view r) {
  std::string out;
  size_t pos = 0;
  auto emit_inline = [&](std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\\' && i + 1 < s.size()) {
        char n = s[i + 1];
        if (n == 'f') {
          i += (i + 2 < s.size() && s[i + 2] == '(') ? 4 : 2;
          continue;
        }
        if (n == '-') { out += '-'; ++i; continue; }
        if (n == 'e' || n == '\\') { out += '\\'; ++i; continue; }
        if (n == '&' || n == '/' || n == ',' || n == '|' || n == '^') { ++i; continue; }
        if (n == '(' && i + 3 < s.size()) {
          std::string_view g = s.substr(i + 2, 2);
          if (g == "em") out += "\xE2\x80\x94";
          else if (g == "en") out += "\xE2\x80\x93";
          else if (g == "bu") out += "\xE2\x80\xA2";
          else if (g == "aq") out += '\'';
          else if (g == "dq") out += '"';
          else if (g == "lq") out += "\xE2\x80\x9C";
          else if (g == "rq") out += "\xE2\x80\x9D";
          i += 3;
          continue;
        }
        if (n == '"') break;  // comment
        if (n == ' ') { out += ' '; ++i; continue; }
        ++i;
        continue;
      }
      if (c != '"') out += c;
    }
  };
  while (pos < r.size()) {
    size_t e = r.find('\n', pos);
    if (e == std::string_view::npos) e = r.size();
    std::string_view line = r.substr(pos, e - pos);
    pos = e + 1;
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) {
      size_t sp = line.find_first_of(" \t");
      std::string_view mac = line.substr(1, sp == std::string_view::npos ? std::string_view::npos : sp - 1);
      std::string_view rest = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
      if (mac == "SH" || mac == "SS") {
        out += "\n\n";
        emit_inline(rest);
        out += "\n";
      } else if (mac == "PP" || mac == "LP" || mac == "P" || mac == "TP" || mac == "IP" || mac == "sp" || mac == "br") {
        out += "\n";
        if (mac == "IP" && !rest.empty()) {
          emit_inline(rest);
          out += ' ';
        }
      } else if (mac == "B" || mac == "I" || mac == "BR" || mac == "IR" || mac == "RB" || mac == "RI" || mac == "BI" ||
                 mac == "IB" || mac == "SM" || mac == "SB") {
        emit_inline(rest);
        out += '\n';
      } else if (mac == "TH") {
        emit_inline(rest);
        out += "\n";
      }
      continue;
    }
    emit_inline(line);
    out += '\n';
  }
  return tidy_text(out);
}

// POD: command paragraphs (=head1 NAME, =item, =over ...) and formatting codes X<...>.
std::string pod_to_text(std::string_view p) {
  std::string out;
  size_t pos = 0;
  bool in_pod = true;
  while (pos < p.size()) {
    size_t e = p.find('\n', pos);
    if (e == std::string_view::npos) e = p.size();
    std::string_view line = p.substr(pos, e - pos);
    pos = e + 1;
    if (!line.empty() && line[0] == '=') {
      if (line.rfind("=cut", 0) == 0) { in_pod = false; continue; }
      in_pod = true;
      size_t sp = line.find(' ');
      if (line.rfind("=head", 0) == 0 || line.rfind("=item", 0) == 0) {
        if (sp != std::string_view::npos) {
          out += "\n";
          line = line.substr(sp + 1);
        } else {
          continue;
        }
      } else {
        continue;
      }
    }
    if (!in_pod) continue;
    // Strip formatting codes X<text> and X<< text >> (the stack holds each open code's bracket count).
    std::vector<size_t> open;
    for (size_t i = 0; i < line.size(); ++i) {
      if (i + 1 < line.size() && std::isupper(static_cast<unsigned char>(line[i])) && line[i + 1] == '<') {
        size_t n = 1;
        ++i;
        while (i + 1 < line.size() && line[i + 1] == '<') ++i, ++n;
        if (n > 1)  // X<< text >>: the spaces inside the brackets are not content
          while (i + 1 < line.size() && line[i + 1] == ' ') ++i;
        open.push_back(n);
        continue;
      }
      if (line[i] == '>' && !open.empty()) {
        size_t n = open.back();
        if (n == 1) {
          open.pop_back();
          continue;
        }
        if (line.compare(i, n, std::string(n, '>')) == 0) {
          open.pop_back();
          while (!out.empty() && out.back() == ' ') out.pop_back();
          i += n - 1;
          continue;
        }
      }
      out += line[i];
    }
    out += '\n';
  }
  return tidy_text(out);
}

}  // namespace longctx
