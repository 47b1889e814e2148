#include "corpus/corpus_files.h"

#include <dirent.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

namespace longctx {
namespace {

bool has_extension(const std::string& name, const std::vector<std::string>& exts) {
  for (const auto& e : exts)
    if (name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) return true;
  return exts.empty();
}

// A directory on the current walk path: its identity and the path it was reached by.
struct Ancestor {
  dev_t dev;
  ino_t ino;
  std::string path;
};

class Walker {
 public:
  explicit Walker(const std::vector<std::string>& exts) : exts_(exts) {}
  std::map<std::string, std::string> found;  // path -> problem ("" = readable)

  Status walk(const std::string& dir, const struct stat& st) {
    stack_.push_back({st.st_dev, st.st_ino, dir});
    Status s = walk_entries(dir);
    stack_.pop_back();
    return s;
  }

 private:
  Status walk_entries(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return make_error(ErrorCode::kIo, "cannot list '{}': {}", dir, std::strerror(errno));
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);  // hidden names, "." and ".."
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string path = dir + "/" + name;
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) {  // a link to nowhere, or a link loop (ELOOP)
        int err = errno;
        struct stat lst;
        if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode) && has_extension(name, exts_))
          found[path] = err == ELOOP ? "a symbolic link that loops back on itself (too many levels of symbolic links)"
                                     : fmt::format("a symbolic link to a missing file ({})", std::strerror(err));
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        auto cycle = std::find_if(stack_.begin(), stack_.end(),
                                  [&](const Ancestor& a) { return a.dev == st.st_dev && a.ino == st.st_ino; });
        if (cycle != stack_.end()) {
          found[path] = fmt::format("a symbolic link cycle: this directory is '{}' again (same device and inode), "
                                    "so following it would never end; remove the link or give the target directly",
                                    cycle->path);
          continue;
        }
        LONGCTX_RETURN_IF_ERROR(walk(path, st));
      } else if (S_ISREG(st.st_mode) && has_extension(name, exts_)) {
        found.emplace(path, "");
      }
    }
    return Status::ok();
  }

  const std::vector<std::string>& exts_;
  std::vector<Ancestor> stack_;
};

std::string without_trailing_slash(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

Result<std::vector<ListedInput>> list_inputs(const std::vector<std::string>& inputs,
                                             const std::vector<std::string>& extensions) {
  Walker w(extensions);
  // One input: a glob's matches are filtered by extension, a named file is taken as it is.
  auto add = [&](const std::string& in, bool named) -> Status {
    struct stat st;
    if (::stat(in.c_str(), &st) != 0) {
      if (errno == ELOOP) {
        w.found[in] = "a symbolic link that loops back on itself (too many levels of symbolic links)";
        return Status::ok();
      }
      return make_error(ErrorCode::kNotFound, "input '{}' does not exist", in);
    }
    if (S_ISDIR(st.st_mode)) return w.walk(without_trailing_slash(in), st);
    if (named || has_extension(in, extensions)) w.found.emplace(in, "");
    return Status::ok();
  };
  for (const auto& in : inputs) {
    if (in.find_first_of("*?[") == std::string::npos) {
      LONGCTX_RETURN_IF_ERROR(add(in, /*named=*/true));
      continue;
    }
    glob_t g;
    int rc = ::glob(in.c_str(), 0, nullptr, &g);
    if (rc != 0) {
      globfree(&g);
      if (rc == GLOB_NOMATCH) return make_error(ErrorCode::kNotFound, "input pattern '{}' matches no file", in);
      return make_error(ErrorCode::kIo, "cannot expand pattern '{}'", in);
    }
    std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    globfree(&g);
    for (const auto& m : matches) LONGCTX_RETURN_IF_ERROR(add(m, /*named=*/false));
  }
  std::vector<ListedInput> out;
  for (auto& [path, problem] : w.found) out.push_back({path, std::move(problem)});
  return out;
}

}  // namespace longctx
