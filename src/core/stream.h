// Byte streams: plain files, zstd-compressed files (streaming, multi-frame), and a line reader
// over either. Errors name the file; a truncated or corrupt zstd frame is an error, never EOF.
#pragma once
#include <cstdint>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace longctx {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `cap` bytes into buf; returns 0 at a clean end of stream.
  virtual Result<size_t> read(char* buf, size_t cap) = 0;
  virtual const std::string& path() const = 0;
  // Compressed bytes consumed so far (for progress: MB read from disk).
  virtual uint64_t raw_bytes_read() const = 0;
};

// Opens `path`, decompressing transparently when it ends in ".zst".
Result<std::unique_ptr<ByteSource>> open_byte_source(const std::string& path);

// Splits a ByteSource into lines ('\n' stripped, '\r\n' too). Line numbers start at 1.
class LineReader {
 public:
  explicit LineReader(std::unique_ptr<ByteSource> src) : src_(std::move(src)) {}
  // Returns false at end of input; a read error is reported through status().
  bool next(std::string& line);
  const Status& status() const { return status_; }
  uint64_t line_number() const { return line_no_; }
  // Lines longer than this are not kept: next() returns the line empty with too_long() set,
  // having skipped to the next newline (memory stays bounded on newline-free input).
  void set_max_line(size_t bytes) { max_line_ = bytes; }
  bool too_long() const { return too_long_; }
  const ByteSource& source() const { return *src_; }

 private:
  std::unique_ptr<ByteSource> src_;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_no_ = 0;
  size_t max_line_ = SIZE_MAX;
  bool too_long_ = false;
  Status status_;
};

// Streaming zstd compressor writing to a file (used for .jsonl.zst corpus shards).
class ZstdWriter {
 public:
  static Result<std::unique_ptr<ZstdWriter>> open(const std::string& path, int level = 3);
  ~ZstdWriter();
  Status write(const void* data, size_t size);
  Status write(std::string_view s) { return write(s.data(), s.size()); }
  Status close();  // ends the frame and closes the file

 private:
  ZstdWriter() = default;
  Status pump(const void* data, size_t size, bool end);
  std::FILE* f_ = nullptr;
  void* cctx_ = nullptr;
  std::string path_;
  std::vector<char> out_;
};

}  // namespace longctx
