// Checked file I/O: whole-file reads, buffered writes, atomic publish (temporary name + rename,
// docs/formats.md), memory maps, and input expansion (files, directories, globs).
//
// Every writer here writes regular files only (core/outputs.h "Safe outputs"): a path that is a
// symbolic link, a device, a FIFO or a socket is refused when a file is opened for writing and
// when a rename would land on it, so no output ever replaces /dev/full or writes through a link.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace longctx {

Result<std::string> read_file(const std::string& path);
Status write_file_atomic(const std::string& path, std::string_view data);
bool file_exists(const std::string& path);
// What a path is, without following a final symbolic link (lstat).
enum class PathType { kMissing, kRegular, kDirectory, kSymlink, kCharDevice, kBlockDevice, kFifo, kSocket, kOther };
PathType path_type(const std::string& path);
// "a regular file", "a symbolic link", "a character device", ... ("nothing" for kMissing).
const char* path_type_name(PathType t);
Result<uint64_t> file_size(const std::string& path);
// xxh64 of a whole file, streamed through a small buffer rather than mapped: a mapping of a
// multi-GB token file would count every page in the process's resident set.
Result<uint64_t> checksum_file(const std::string& path);
Status make_dirs(const std::string& path);
Status remove_file_if_exists(const std::string& path);
// Refuses a destination that exists and is not a regular file (a link, device, FIFO, socket, directory).
Status rename_file(const std::string& from, const std::string& to);
// Streams `from` into `to` under a temporary name (AtomicWriter).
Status copy_file_atomic(const std::string& from, const std::string& to);
// fsync a directory, so that renames inside it survive a power loss.
Status sync_directory(const std::string& dir);
std::string parent_directory(const std::string& path);

// An exclusive advisory lock (flock) on "<dir>/.lock" for as long as the object lives: two runs
// writing the same output directory would corrupt each other.
class DirLock {
 public:
  static Result<DirLock> acquire(const std::string& dir);
  DirLock() = default;
  DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DirLock& operator=(DirLock&& o) noexcept;
  ~DirLock();

 private:
  int fd_ = -1;
};

// fopen for writing that refuses anything but a regular file (or a new one): a final symbolic
// link, a device, a FIFO or a socket. Mode "wb", "ab" or "r+b". Every writer opens through it.
Result<std::FILE*> open_file_for_writing(const std::string& path, const char* mode);

// Buffered binary writer with error checking. Writes go to `path` directly; use AtomicWriter to
// publish under a final name only when complete.
class FileWriter {
 public:
  FileWriter() = default;
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  FileWriter(FileWriter&& o) noexcept;
  FileWriter& operator=(FileWriter&& o) noexcept;

  // mode "wb" truncates, "ab" appends (for resume), "r+b" updates in place. The path must be a
  // regular file or not exist; a symbolic link (even one to a regular file) is refused.
  static Result<FileWriter> open(const std::string& path, const char* mode = "wb");
  // Writes to this process's standard output ("-" on a command line).
  static Result<FileWriter> open_stdout();
  Status write(const void* data, size_t size);
  Status write(std::string_view s) { return write(s.data(), s.size()); }
  template <typename T>
  Status write_pod(const T& v) { return write(&v, sizeof(T)); }
  Status flush();
  Status sync();  // flush + fsync: data is on disk before a rename publishes it
  Status close();
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }
  bool is_open() const { return f_ != nullptr; }

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  uint64_t offset_ = 0;
};

// Writes to "<final>.tmp" and renames onto <final> in commit(). If destroyed without commit the
// temporary file is removed, so a half-written output is never published. <final> must be a
// regular file or not exist (checked on open and again just before the rename). The path "-"
// writes to standard output directly (commit flushes it).
class AtomicWriter {
 public:
  static Result<AtomicWriter> open(const std::string& final_path);
  AtomicWriter() = default;
  AtomicWriter(AtomicWriter&&) noexcept = default;
  AtomicWriter& operator=(AtomicWriter&&) noexcept = default;
  ~AtomicWriter();
  FileWriter& file() { return file_; }
  Status write(const void* data, size_t size) { return file_.write(data, size); }
  Status write(std::string_view s) { return file_.write(s); }
  Status commit();
  static std::string temp_name(const std::string& final_path) { return final_path + ".tmp"; }

 private:
  FileWriter file_;
  std::string final_;
  bool committed_ = false;
};

// Read-only memory map of a whole file (empty files map to an empty span).
class MappedFile {
 public:
  static Result<MappedFile> open(const std::string& path);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Expands inputs into a sorted, de-duplicated list of regular files: a file is taken as is, a
// directory recursively, anything with * ? [ as a glob. Hidden files ('.' prefix) are skipped in
// directories. `extensions` (e.g. {".jsonl", ".jsonl.zst", ".txt"}) filters directory walks.
Result<std::vector<std::string>> expand_inputs(const std::vector<std::string>& inputs,
                                               const std::vector<std::string>& extensions);

// The path of `path` relative to `base` (lexically), or `path` itself when not below it.
std::string relative_path(const std::string& path, const std::string& base);
// The longest common directory of the given files (the "corpus root" for stable ids).
std::string common_directory(const std::vector<std::string>& files);

}  // namespace longctx
