#include "core/file_io.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

namespace longctx {
namespace fs = std::filesystem;

static Status io_error(const std::string& what, const std::string& path) {
  return make_error(ErrorCode::kIo, "{} '{}': {}", what, path, std::strerror(errno));
}

Result<std::string> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return io_error("cannot open", path);
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  bool err = std::ferror(f);
  std::fclose(f);
  if (err) return io_error("cannot read", path);
  return out;
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  LONGCTX_ASSIGN_OR_RETURN(AtomicWriter w, AtomicWriter::open(path));
  LONGCTX_RETURN_IF_ERROR(w.write(data));
  return w.commit();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<uint64_t> file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return io_error("cannot stat", path);
  return static_cast<uint64_t>(st.st_size);
}

Status make_dirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot create directory '{}': {}", path, ec.message());
  return Status::ok();
}

Status remove_file_if_exists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", path);
  return Status::ok();
}

Status rename_file(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    return make_error(ErrorCode::kIo, "cannot rename '{}' to '{}': {}", from, to, std::strerror(errno));
  return Status::ok();
}

Status sync_directory(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return io_error("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("cannot fsync directory", dir);
  return Status::ok();
}

std::string parent_directory(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos) return ".";
  return pos == 0 ? "/" : path.substr(0, pos);
}

Result<DirLock> DirLock::acquire(const std::string& dir) {
  std::string p = dir + "/.lock";
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd < 0) return io_error("cannot create lock file", p);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return make_error(ErrorCode::kInvalidArgument, "another longctx run is writing '{}' (lock held on '{}')", dir, p);
  }
  DirLock l;
  l.fd_ = fd;
  return l;
}
DirLock& DirLock::operator=(DirLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}
DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

// ---- FileWriter ----
FileWriter::~FileWriter() {
  if (f_) std::fclose(f_);
}
FileWriter::FileWriter(FileWriter&& o) noexcept : f_(o.f_), path_(std::move(o.path_)), offset_(o.offset_) {
  o.f_ = nullptr;
}
FileWriter& FileWriter::operator=(FileWriter&& o) noexcept {
  if (this != &o) {
    if (f_) std::fclose(f_);
    f_ = o.f_;
    path_ = std::move(o.path_);
    offset_ = o.offset_;
    o.f_ = nullptr;
  }
  return *this;
}
Result<FileWriter> FileWriter::open(const std::string& path, const char* mode) {
  FileWriter w;
  w.f_ = std::fopen(path.c_str(), mode);
  if (!w.f_) return io_error("cannot open for writing", path);
  w.path_ = path;
  std::setvbuf(w.f_, nullptr, _IOFBF, 1 << 20);
  if (mode[0] == 'a' || mode[0] == 'r') {
    std::fseek(w.f_, 0, SEEK_END);
    w.offset_ = static_cast<uint64_t>(std::ftell(w.f_));
  }
  return w;
}
Status FileWriter::write(const void* data, size_t size) {
  if (size == 0) return Status::ok();
  if (std::fwrite(data, 1, size, f_) != size) return io_error("cannot write", path_);
  offset_ += size;
  return Status::ok();
}
Status FileWriter::flush() {
  if (f_ && std::fflush(f_) != 0) return io_error("cannot flush", path_);
  return Status::ok();
}
Status FileWriter::sync() {
  LONGCTX_RETURN_IF_ERROR(flush());
  if (f_ && ::fsync(fileno(f_)) != 0) return io_error("cannot fsync", path_);
  return Status::ok();
}
Status FileWriter::close() {
  if (!f_) return Status::ok();
  int rc = std::fclose(f_);
  f_ = nullptr;
  if (rc != 0) return io_error("cannot close", path_);
  return Status::ok();
}

// ---- AtomicWriter ----
Result<AtomicWriter> AtomicWriter::open(const std::string& final_path) {
  AtomicWriter w;
  w.final_ = final_path;
  LONGCTX_ASSIGN_OR_RETURN(w.file_, FileWriter::open(temp_name(final_path), "wb"));
  return w;
}
AtomicWriter::~AtomicWriter() {
  if (!committed_ && file_.is_open()) {
    std::string tmp = file_.path();
    (void)file_.close();
    ::unlink(tmp.c_str());
  }
}
Status AtomicWriter::commit() {
  LONGCTX_RETURN_IF_ERROR(file_.sync());
  std::string tmp = file_.path();
  LONGCTX_RETURN_IF_ERROR(file_.close());
  LONGCTX_RETURN_IF_ERROR(rename_file(tmp, final_));
  committed_ = true;
  return sync_directory(parent_directory(final_));
}

// ---- MappedFile ----
Result<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return io_error("cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return io_error("cannot stat", path);
  }
  MappedFile m;
  m.size_ = static_cast<size_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      return io_error("cannot mmap", path);
    }
    m.data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return m;
}
MappedFile::MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) {
  o.data_ = nullptr;
  o.size_ = 0;
}
MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}
MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

// ---- input expansion ----
static bool has_extension(const std::string& name, const std::vector<std::string>& exts) {
  if (exts.empty()) return true;
  for (const auto& e : exts)
    if (name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) return true;
  return false;
}

Result<std::vector<std::string>> expand_inputs(const std::vector<std::string>& inputs,
                                               const std::vector<std::string>& extensions) {
  std::set<std::string> out;
  for (const auto& in : inputs) {
    if (in.find_first_of("*?[") != std::string::npos) {
      glob_t g;
      int rc = ::glob(in.c_str(), 0, nullptr, &g);
      if (rc == GLOB_NOMATCH) {
        globfree(&g);
        return make_error(ErrorCode::kNotFound, "input pattern '{}' matches no file", in);
      }
      if (rc != 0) {
        globfree(&g);
        return make_error(ErrorCode::kIo, "cannot expand pattern '{}'", in);
      }
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        std::string p = g.gl_pathv[i];
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
          LONGCTX_ASSIGN_OR_RETURN(auto sub, expand_inputs({p}, extensions));
          out.insert(sub.begin(), sub.end());
        } else if (has_extension(p, extensions)) {
          out.insert(p);
        }
      }
      globfree(&g);
      continue;
    }
    std::error_code ec;
    auto st = fs::status(in, ec);
    if (ec || !fs::exists(st)) return make_error(ErrorCode::kNotFound, "input '{}' does not exist", in);
    if (fs::is_directory(st)) {
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::follow_directory_symlink, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) return make_error(ErrorCode::kIo, "cannot list '{}': {}", in, ec.message());
        const std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file() && has_extension(name, extensions)) out.insert(it->path().string());
      }
    } else {
      out.insert(in);
    }
  }
  return std::vector<std::string>(out.begin(), out.end());
}

std::string relative_path(const std::string& path, const std::string& base) {
  if (base.empty()) return path;
  std::string b = base;
  if (b.back() != '/') b += '/';
  if (path.compare(0, b.size(), b) == 0) return path.substr(b.size());
  return path;
}

std::string common_directory(const std::vector<std::string>& files) {
  if (files.empty()) return "";
  auto dir_of = [](const std::string& p) {
    auto pos = p.rfind('/');
    return pos == std::string::npos ? std::string() : p.substr(0, pos);
  };
  std::string common = dir_of(files[0]);
  for (const auto& f : files) {
    std::string d = dir_of(f);
    while (!common.empty() && !(d == common || d.compare(0, common.size() + 1, common + "/") == 0)) {
      common = dir_of(common);
    }
    if (common.empty()) break;
  }
  return common;
}

}  // namespace longctx
