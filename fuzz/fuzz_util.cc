#include "fuzz_util.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace longctx::fuzz {

std::vector<std::string_view> split_parts(std::string_view input, size_t min_parts) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  for (;;) {
    size_t at = input.find(kPartMarker, pos);
    if (at == std::string_view::npos) break;
    parts.push_back(input.substr(pos, at - pos));
    pos = at + kPartMarker.size();
  }
  parts.push_back(input.substr(pos));
  while (parts.size() < min_parts) parts.emplace_back();
  return parts;
}

std::string join_parts(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += kPartMarker;
    out += parts[i];
  }
  return out;
}

namespace {

std::string g_dir;

void remove_scratch() {
  if (g_dir.empty()) return;
  clear_scratch();
  ::rmdir(g_dir.c_str());
}

}  // namespace

const std::string& scratch_dir() {
  if (!g_dir.empty()) return g_dir;
  const char* base = std::getenv("TMPDIR");
  std::string b = base && *base ? base : (::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  std::string templ = b + "/longctx-fuzz-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    std::perror("longctx fuzz: mkdtemp");
    std::abort();
  }
  g_dir = buf.data();
  std::atexit(remove_scratch);
  return g_dir;
}

std::string put_file(const std::string& name, std::string_view bytes) {
  std::string path = scratch_dir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  // An empty part may be a default string_view whose data() is null, which fwrite must not get.
  if (!f || (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) || std::fclose(f) != 0) {
    std::perror(("longctx fuzz: cannot write " + path).c_str());
    std::abort();
  }
  return path;
}

void clear_scratch() {
  DIR* d = ::opendir(scratch_dir().c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    ::unlink((g_dir + "/" + e->d_name).c_str());
  }
  ::closedir(d);
}

}  // namespace longctx::fuzz
