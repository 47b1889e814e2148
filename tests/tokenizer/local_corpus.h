// Text that exists on every Debian machine we build on (no downloads): licences, release notes,
// package documentation, C headers. Used by the tokenizer tests, the fuzzer and the benchmark.
#pragma once
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace longctx::testing_corpus {

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Regular files under `dir` (recursively) whose names end in one of `exts` ("" = any), sorted, until
// `max_bytes` of content; each file at most `max_file_bytes`.
inline std::vector<std::string> collect(const std::string& dir, const std::vector<std::string>& exts,
                                        size_t max_bytes, size_t max_file_bytes = 1 << 20) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    std::string p = it->path().string();
    bool ok = exts.empty();
    for (const auto& e : exts) ok = ok || (p.size() >= e.size() && p.compare(p.size() - e.size(), e.size(), e) == 0);
    if (ok) paths.push_back(p);
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> docs;
  size_t total = 0;
  for (const auto& p : paths) {
    if (total >= max_bytes) break;
    std::string s = slurp(p);
    if (s.empty() || s.size() > max_file_bytes) continue;
    total += s.size();
    docs.push_back(std::move(s));
  }
  return docs;
}

// Ordinary prose documents: licences, git release notes, plain-text docs.
inline std::vector<std::string> prose_documents(size_t max_bytes) {
  auto docs = collect("/usr/share/common-licenses", {}, max_bytes);
  size_t total = 0;
  for (const auto& d : docs) total += d.size();
  if (total < max_bytes) {
    auto more = collect("/usr/share/doc/git/RelNotes", {".txt"}, max_bytes - total);
    for (auto& d : more) total += d.size(), docs.push_back(std::move(d));
  }
  if (total < max_bytes) {
    auto more = collect("/usr/share/doc", {".txt", "README", ".md"}, max_bytes - total);
    for (auto& d : more) total += d.size(), docs.push_back(std::move(d));
  }
  return docs;
}

// C and C++ headers as "source code" documents.
inline std::vector<std::string> code_documents(size_t max_bytes) {
  return collect("/usr/include", {".h", ".hpp"}, max_bytes, 256 << 10);
}

// Replaces bytes that are not valid UTF-8 by U+FFFD (HF takes Unicode strings).
inline std::string to_valid_utf8(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    uint32_t cp = c;
    if (ok && len > 1) {
      cp = c & (0x7f >> len);
      for (int k = 1; k < len; ++k) {
        auto t = static_cast<unsigned char>(s[i + k]);
        if ((t & 0xc0) != 0x80) ok = false;
        cp = (cp << 6) | (t & 0x3f);
      }
      static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) ok = false;
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

}  // namespace longctx::testing_corpus
