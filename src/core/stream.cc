#include "core/stream.h"

#include "core/file_io.h"

#include <cerrno>
#include <cstring>
#include <zstd.h>

namespace longctx {
namespace {

class PlainSource : public ByteSource {
 public:
  PlainSource(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  ~PlainSource() override { std::fclose(f_); }
  Result<size_t> read(char* buf, size_t cap) override {
    size_t n = std::fread(buf, 1, cap, f_);
    if (n == 0 && std::ferror(f_))
      return make_error(ErrorCode::kIo, "cannot read '{}': {}", path_, std::strerror(errno));
    raw_ += n;
    return n;
  }
  const std::string& path() const override { return path_; }
  uint64_t raw_bytes_read() const override { return raw_; }

 private:
  std::FILE* f_;
  std::string path_;
  uint64_t raw_ = 0;
};

// Streaming decompression that accepts concatenated frames. At end of input, a frame that is not
// complete (ZSTD_decompressStream's hint != 0) is reported as truncated.
class ZstdSource : public ByteSource {
 public:
  ZstdSource(std::FILE* f, std::string path)
      : f_(f), path_(std::move(path)), dctx_(ZSTD_createDCtx()), in_(ZSTD_DStreamInSize()) {}
  ~ZstdSource() override {
    ZSTD_freeDCtx(dctx_);
    std::fclose(f_);
  }
  Result<size_t> read(char* buf, size_t cap) override {
    size_t produced = 0;
    while (produced == 0) {
      if (in_pos_ == in_end_) {
        if (file_eof_) {
          if (last_hint_ != 0)
            return make_error(ErrorCode::kCorrupt,
                              "'{}': truncated zstd stream (frame ends early after {} compressed bytes)",
                              path_, raw_);
          return size_t{0};
        }
        in_end_ = std::fread(in_.data(), 1, in_.size(), f_);
        in_pos_ = 0;
        raw_ += in_end_;
        if (in_end_ == 0) {
          if (std::ferror(f_)) return make_error(ErrorCode::kIo, "cannot read '{}': {}", path_, std::strerror(errno));
          file_eof_ = true;
          continue;
        }
      }
      ZSTD_inBuffer in{in_.data(), in_end_, in_pos_};
      ZSTD_outBuffer out{buf, cap, 0};
      size_t rc = ZSTD_decompressStream(dctx_, &out, &in);
      if (ZSTD_isError(rc))
        return make_error(ErrorCode::kCorrupt, "'{}': corrupt zstd data near compressed byte {}: {}", path_,
                          raw_ - (in_end_ - in.pos), ZSTD_getErrorName(rc));
      in_pos_ = in.pos;
      last_hint_ = rc;
      produced = out.pos;
      if (produced == 0 && in_pos_ < in_end_ && out.pos == 0 && rc == 0) continue;
    }
    return produced;
  }
  const std::string& path() const override { return path_; }
  uint64_t raw_bytes_read() const override { return raw_; }

 private:
  std::FILE* f_;
  std::string path_;
  ZSTD_DCtx* dctx_;
  std::vector<char> in_;
  size_t in_pos_ = 0, in_end_ = 0;
  bool file_eof_ = false;
  size_t last_hint_ = 0;
  uint64_t raw_ = 0;
};

bool ends_with(const std::string& s, const char* suf) {
  size_t n = std::strlen(suf);
  return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}

}  // namespace

Result<std::unique_ptr<ByteSource>> open_byte_source(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return make_error(ErrorCode::kIo, "cannot open '{}': {}", path, std::strerror(errno));
  if (ends_with(path, ".zst")) return std::unique_ptr<ByteSource>(new ZstdSource(f, path));
  return std::unique_ptr<ByteSource>(new PlainSource(f, path));
}

bool LineReader::next(std::string& line) {
  line.clear();
  too_long_ = false;
  if (!status_.is_ok()) return false;
  bool any = false;  // bytes of this line seen (kept or not)
  auto append = [&](const char* p, size_t n) {
    any = any || n > 0;
    if (too_long_) return;
    if (line.size() + n > max_line_) {
      too_long_ = true;
      line.clear();
      line.shrink_to_fit();
      return;
    }
    line.append(p, n);
  };
  for (;;) {
    if (pos_ < end_) {
      const char* start = buf_.data() + pos_;
      const void* nl = std::memchr(start, '\n', end_ - pos_);
      if (nl) {
        size_t len = static_cast<const char*>(nl) - start;
        append(start, len);
        pos_ += len + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        ++line_no_;
        return true;
      }
      append(start, end_ - pos_);
      pos_ = end_;
    }
    if (eof_) {
      if (!any) return false;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      ++line_no_;
      return true;
    }
    auto r = src_->read(buf_.data(), buf_.size());
    if (!r.is_ok()) {
      status_ = r.status();
      return false;
    }
    pos_ = 0;
    end_ = *r;
    if (end_ == 0) eof_ = true;
  }
}

Result<std::unique_ptr<ZstdWriter>> ZstdWriter::open(const std::string& path, int level) {
  std::unique_ptr<ZstdWriter> w(new ZstdWriter());
  LONGCTX_ASSIGN_OR_RETURN(w->f_, open_file_for_writing(path, "wb"));
  w->path_ = path;
  auto* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
  w->cctx_ = c;
  w->out_.resize(ZSTD_CStreamOutSize());
  return w;
}

ZstdWriter::~ZstdWriter() {
  if (cctx_) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
  if (f_) std::fclose(f_);
}

Status ZstdWriter::pump(const void* data, size_t size, bool end) {
  auto* c = static_cast<ZSTD_CCtx*>(cctx_);
  ZSTD_inBuffer in{data, size, 0};
  for (;;) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t rc = ZSTD_compressStream2(c, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(rc)) return make_error(ErrorCode::kInternal, "zstd compression of '{}': {}", path_, ZSTD_getErrorName(rc));
    if (out.pos && std::fwrite(out_.data(), 1, out.pos, f_) != out.pos)
      return make_error(ErrorCode::kIo, "cannot write '{}': {}", path_, std::strerror(errno));
    if (end ? rc == 0 : in.pos == in.size) break;
  }
  return Status::ok();
}

Status ZstdWriter::write(const void* data, size_t size) { return pump(data, size, false); }

Status ZstdWriter::close() {
  if (!f_) return Status::ok();
  LONGCTX_RETURN_IF_ERROR(pump(nullptr, 0, true));
  int rc = std::fclose(f_);
  f_ = nullptr;
  if (rc != 0) return make_error(ErrorCode::kIo, "cannot close '{}'", path_);
  return Status::ok();
}

}  // namespace longctx
