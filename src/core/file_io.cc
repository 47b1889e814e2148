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
#include <vector>

#include "core/hash.h"

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

Result<uint64_t> checksum_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return make_error(ErrorCode::kIo, "cannot open '{}' to checksum it", path);
  Xxh64Stream h;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) h.update(buf.data(), n);
  bool err = std::ferror(f);
  std::fclose(f);
  if (err) return make_error(ErrorCode::kIo, "cannot read '{}'", path);
  return h.digest();
}

PathType path_type(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return PathType::kMissing;
  if (S_ISREG(st.st_mode)) return PathType::kRegular;
  if (S_ISDIR(st.st_mode)) return PathType::kDirectory;
  if (S_ISLNK(st.st_mode)) return PathType::kSymlink;
  if (S_ISCHR(st.st_mode)) return PathType::kCharDevice;
  if (S_ISBLK(st.st_mode)) return PathType::kBlockDevice;
  if (S_ISFIFO(st.st_mode)) return PathType::kFifo;
  if (S_ISSOCK(st.st_mode)) return PathType::kSocket;
  return PathType::kOther;
}

const char* path_type_name(PathType t) {
  switch (t) {
    case PathType::kMissing: return "nothing";
    case PathType::kRegular: return "a regular file";
    case PathType::kDirectory: return "a directory";
    case PathType::kSymlink: return "a symbolic link";
    case PathType::kCharDevice: return "a character device";
    case PathType::kBlockDevice: return "a block device";
    case PathType::kFifo: return "a FIFO (named pipe)";
    case PathType::kSocket: return "a socket";
    case PathType::kOther: return "a special file";
  }
  return "a special file";
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

namespace {

// The name of what `path` is when it exists and is not a regular file; empty otherwise.
std::string special_file_kind(const std::string& path) {
  const PathType t = path_type(path);
  return t == PathType::kMissing || t == PathType::kRegular ? std::string() : path_type_name(t);
}

Status refuse_special(const std::string& path, const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument,
                    "'{}' is {}, not a regular file; longctx never writes to or replaces a device, FIFO, socket or "
                    "symbolic link: choose another output path", path, what);
}

}  // namespace

// open(2): O_NOFOLLOW refuses a final symbolic link, O_NONBLOCK keeps a FIFO without a reader from
// blocking the open, and fstat refuses whatever else is not a regular file (checked after the
// open too: the lstat before it only gives the clearer message).
Result<std::FILE*> open_file_for_writing(const std::string& path, const char* mode) {
  if (std::string what = special_file_kind(path); !what.empty()) return refuse_special(path, what);
  int flags = O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
  if (mode[0] == 'w') flags |= O_WRONLY | O_CREAT | O_TRUNC;
  else if (mode[0] == 'a') flags |= O_WRONLY | O_CREAT | O_APPEND;
  else flags |= O_RDWR;
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENXIO) return refuse_special(path, errno == ELOOP ? "a symbolic link" : "a FIFO (named pipe)");
    return io_error("cannot open for writing", path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return refuse_special(path, "a special file");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  std::FILE* f = ::fdopen(fd, mode);
  if (!f) {
    ::close(fd);
    return io_error("cannot open for writing", path);
  }
  return f;
}

Status rename_file(const std::string& from, const std::string& to) {
  if (std::string what = special_file_kind(to); !what.empty()) return refuse_special(to, what);
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
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
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
  LONGCTX_ASSIGN_OR_RETURN(w.f_, open_file_for_writing(path, mode));
  w.path_ = path;
  std::setvbuf(w.f_, nullptr, _IOFBF, 1 << 20);
  if (mode[0] == 'a' || mode[0] == 'r') {
    std::fseek(w.f_, 0, SEEK_END);
    w.offset_ = static_cast<uint64_t>(std::ftell(w.f_));
  }
  return w;
}
Result<FileWriter> FileWriter::open_stdout() {
  std::fflush(stdout);
  int fd = ::dup(STDOUT_FILENO);
  std::FILE* f = fd >= 0 ? ::fdopen(fd, "wb") : nullptr;
  if (!f) {
    if (fd >= 0) ::close(fd);
    return io_error("cannot write to", "standard output");
  }
  FileWriter w;
  w.f_ = f;
  w.path_ = "-";
  std::setvbuf(w.f_, nullptr, _IOFBF, 1 << 20);
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
  if (f_ && path_ != "-" && ::fsync(fileno(f_)) != 0) return io_error("cannot fsync", path_);
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
  if (final_path == "-") {
    LONGCTX_ASSIGN_OR_RETURN(w.file_, FileWriter::open_stdout());
    return w;
  }
  if (std::string what = special_file_kind(final_path); !what.empty()) return refuse_special(final_path, what);
  // A stale temporary file of an earlier run is ours to replace; anything else at that name is not.
  const std::string tmp = temp_name(final_path);
  if (std::string what = special_file_kind(tmp); !what.empty()) return refuse_special(tmp, what);
  LONGCTX_ASSIGN_OR_RETURN(w.file_, FileWriter::open(tmp, "wb"));
  return w;
}
AtomicWriter::~AtomicWriter() {
  if (!committed_ && file_.is_open()) {
    std::string tmp = file_.path();
    (void)file_.close();
    if (final_ != "-") ::unlink(tmp.c_str());
  }
}
Status AtomicWriter::commit() {
  if (final_ == "-") {
    LONGCTX_RETURN_IF_ERROR(file_.close());
    committed_ = true;
    return Status::ok();
  }
  LONGCTX_RETURN_IF_ERROR(file_.sync());
  std::string tmp = file_.path();
  LONGCTX_RETURN_IF_ERROR(file_.close());
  LONGCTX_RETURN_IF_ERROR(rename_file(tmp, final_));  // re-checks that final_ is not special
  committed_ = true;
  return sync_directory(parent_directory(final_));
}

Status copy_file_atomic(const std::string& from, const std::string& to) {
  std::FILE* f = std::fopen(from.c_str(), "rb");
  if (!f) return io_error("cannot open", from);
  auto w = AtomicWriter::open(to);
  Status st = w.status();
  std::vector<char> buf(1 << 20);
  for (size_t n; st.is_ok() && (n = std::fread(buf.data(), 1, buf.size(), f)) > 0;) st = w->write(buf.data(), n);
  if (st.is_ok() && std::ferror(f)) st = io_error("cannot read", from);
  std::fclose(f);
  if (st.is_ok()) st = w->commit();
  return st;
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
