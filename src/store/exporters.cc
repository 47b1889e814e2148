#include "store/exporters.h"

#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "store/document_store.h"
#include "store/packed_manifest.h"
#include "store/token_reader.h"

namespace longctx {
namespace {

// Calls fn(tokens of one span, span) for every span of every chunk, in order, through the checked
// reader (for_each_packed_chunk): a damaged shard stops the export before anything is published.
template <typename Fn>
Status for_each_span(const PackedDataset& d, Fn&& fn) {
  return for_each_packed_chunk(d, [&](uint64_t, std::span<const uint32_t> toks, std::span<const PackedSpan> spans) -> Status {
    for (const PackedSpan& sp : spans) LONGCTX_RETURN_IF_ERROR(fn(toks.subspan(sp.start, sp.end - sp.start), sp));
    return Status::ok();
  });
}

void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

Result<ExportSummary> export_megatron(const PackedDataset& d, const std::string& out_prefix, uint64_t vocab_size) {
  if (vocab_size == 0) vocab_size = d.manifest.vocab_size;
  // formats.md: Megatron's preprocessing writes uint16 when vocab < 65,500, else int32.
  bool u16 = vocab_size ? vocab_size < 65500 : d.token_bytes == 2;
  const int item = u16 ? 2 : 4;
  LONGCTX_ASSIGN_OR_RETURN(AtomicWriter bin, AtomicWriter::open(out_prefix + ".bin"));
  std::vector<int32_t> lengths;
  std::string buf;
  uint64_t tokens = 0;
  bool open_seq = false;
  Status st = for_each_span(d, [&](std::span<const uint32_t> t, const PackedSpan& sp) -> Status {
    if (sp.domain == kPadDomain) return Status::ok();
    if ((sp.flags & kSpanStart) || !open_seq) {
      lengths.push_back(0);
      open_seq = true;
    }
    if (lengths.back() + t.size() > 0x7FFFFFFFull)
      return make_error(ErrorCode::kUnsupported, "Megatron export: a document piece exceeds 2^31 tokens");
    lengths.back() += static_cast<int32_t>(t.size());
    buf.clear();
    for (uint32_t v : t) {
      if (u16 && v > 0xFFFF) return make_error(ErrorCode::kInvalidArgument, "Megatron export: token {} does not fit uint16", v);
      put_le(buf, v, item);
    }
    tokens += t.size();
    return bin.write(buf);
  });
  LONGCTX_RETURN_IF_ERROR(st);
  std::string idx("MMIDIDX\x00\x00", 9);
  put_le(idx, 1, 8);
  idx += static_cast<char>(u16 ? 8 : 4);
  const uint64_t n = lengths.size();
  put_le(idx, n, 8);
  put_le(idx, n + 1, 8);
  for (int32_t l : lengths) put_le(idx, static_cast<uint32_t>(l), 4);
  uint64_t off = 0;
  for (int32_t l : lengths) {
    put_le(idx, off, 8);
    off += static_cast<uint64_t>(l) * item;
  }
  for (uint64_t i = 0; i <= n; ++i) put_le(idx, i, 8);  // one document per sequence
  LONGCTX_RETURN_IF_ERROR(bin.commit());
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(out_prefix + ".idx", idx));
  return ExportSummary{{out_prefix + ".bin", out_prefix + ".idx"}, n, tokens};
}

Result<ExportSummary> export_llmc(const PackedDataset& d, const std::string& out_prefix, uint64_t max_tokens_per_file) {
  if (max_tokens_per_file == 0 || max_tokens_per_file >= (1ull << 31))
    return make_error(ErrorCode::kInvalidArgument, "llm.c export: max tokens per file must be in [1, 2^31), got {}", max_tokens_per_file);
  const int item = d.token_bytes == 2 ? 2 : 4;
  ExportSummary sum;
  // Every file stays under its temporary name until the whole mixture has been read and checked.
  std::vector<AtomicWriter> files;
  uint64_t in_file = 0;
  std::string buf;
  auto close_file = [&]() -> Status {
    if (files.empty()) return Status::ok();
    AtomicWriter& w = files.back();
    LONGCTX_RETURN_IF_ERROR(w.file().flush());
    int32_t head[3] = {item == 2 ? kLlmcMagicU16 : kLlmcMagicU32, item == 2 ? kLlmcVersionU16 : kLlmcVersionU32,
                       static_cast<int32_t>(in_file)};
    return write_at(w.file().path(), 0, head, sizeof head);
  };
  auto open_file = [&]() -> Status {
    std::string path = fmt::format("{}_{:06d}.bin", out_prefix, sum.files.size());
    LONGCTX_ASSIGN_OR_RETURN(AtomicWriter w, AtomicWriter::open(path));
    files.push_back(std::move(w));
    sum.files.push_back(path);
    in_file = 0;
    std::string zero(1024, '\0');
    return files.back().write(zero);
  };
  Status st = for_each_span(d, [&](std::span<const uint32_t> t, const PackedSpan& sp) -> Status {
    if (sp.domain == kPadDomain) return Status::ok();
    if (sp.flags & kSpanStart) ++sum.sequences;
    size_t i = 0;
    while (i < t.size()) {
      if (files.empty() || in_file == max_tokens_per_file) {
        LONGCTX_RETURN_IF_ERROR(close_file());
        LONGCTX_RETURN_IF_ERROR(open_file());
      }
      size_t n = std::min<uint64_t>(t.size() - i, max_tokens_per_file - in_file);
      buf.clear();
      for (size_t k = i; k < i + n; ++k) put_le(buf, t[k], item);
      LONGCTX_RETURN_IF_ERROR(files.back().write(buf));
      in_file += n;
      sum.tokens += n;
      i += n;
    }
    return Status::ok();
  });
  LONGCTX_RETURN_IF_ERROR(st);
  LONGCTX_RETURN_IF_ERROR(close_file());
  for (auto& w : files) LONGCTX_RETURN_IF_ERROR(w.commit());
  return sum;
}

Result<ExportSummary> export_jsonl(const PackedDataset& d, const std::string& out_path) {
  LONGCTX_ASSIGN_OR_RETURN(AtomicWriter w, AtomicWriter::open(out_path));
  ExportSummary sum;
  sum.files.push_back(out_path);
  Status st = for_each_packed_chunk(d, [&](uint64_t, std::span<const uint32_t> toks, std::span<const PackedSpan> spans) -> Status {
    nlohmann::json row;
    row["input_ids"] = toks;
    nlohmann::json src = nlohmann::json::array();
    for (const PackedSpan& sp : spans) {
      std::string name = sp.domain == kPadDomain ? "<pad>" : d.domains[sp.domain];
      src.push_back({{"source", name}, {"start", sp.start}, {"end", sp.end}});
    }
    row["source"] = std::move(src);
    ++sum.sequences;
    sum.tokens += toks.size();
    return w.write(row.dump() + "\n");
  });
  LONGCTX_RETURN_IF_ERROR(st);
  LONGCTX_RETURN_IF_ERROR(w.commit());
  return sum;
}

namespace {

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Reads a whole file in blocks: fn(data, size) per block.
template <typename Fn>
Status for_each_block(const std::string& path, Fn&& fn) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return make_error(ErrorCode::kIo, "cannot open '{}'", path);
  std::vector<uint8_t> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) LONGCTX_RETURN_IF_ERROR(fn(buf.data(), n));
  if (std::ferror(f.get())) return make_error(ErrorCode::kIo, "cannot read '{}'", path);
  return Status::ok();
}

// Token ids of `item` bytes (little-endian; signed when `is_signed`) in [0, vocab_size) (vocab 0:
// only non-negative). `first` is the index of data[0] in the file's token array.
Status check_ids(const std::string& path, const uint8_t* data, uint64_t n, int item, bool is_signed, uint64_t vocab_size, uint64_t first) {
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = get_le(data + i * item, item);
    if (is_signed && (v >> (8 * item - 1)) & 1)
      return make_error(ErrorCode::kCorrupt, "'{}': token {} is negative", path, first + i);
    if (vocab_size && v >= vocab_size)
      return make_error(ErrorCode::kCorrupt, "'{}': token {} is id {}, not below the vocabulary size {}", path, first + i, v, vocab_size);
  }
  return Status::ok();
}

// Streams the tokens of `path` from byte `offset` on, `item` bytes each, through check_ids.
Status check_file_ids(const std::string& path, uint64_t offset, int item, bool is_signed, uint64_t vocab_size) {
  if (!is_signed && vocab_size == 0) return Status::ok();  // nothing an unsigned id could violate
  uint64_t at = 0, token = 0;
  std::vector<uint8_t> carry;  // a token split across two blocks
  return for_each_block(path, [&](const uint8_t* p, size_t n) -> Status {
    const uint64_t skip = at < offset ? std::min<uint64_t>(offset - at, n) : 0;
    at += n;
    p += skip;
    n -= skip;
    carry.insert(carry.end(), p, p + n);
    const uint64_t whole = carry.size() / item;
    LONGCTX_RETURN_IF_ERROR(check_ids(path, carry.data(), whole, item, is_signed, vocab_size, token));
    token += whole;
    carry.erase(carry.begin(), carry.begin() + static_cast<std::ptrdiff_t>(whole * item));
    return Status::ok();
  });
}

Status verify_megatron(const std::string& path, uint64_t vocab_size) {
  LONGCTX_ASSIGN_OR_RETURN(MappedFile m, MappedFile::open(path));
  const uint8_t* p = m.data();
  if (m.size() < 34 || std::memcmp(p, "MMIDIDX\x00\x00", 9) != 0)
    return make_error(ErrorCode::kCorrupt, "'{}': not a Megatron index (magic MMIDIDX\\0\\0)", path);
  if (get_le(p + 9, 8) != 1) return make_error(ErrorCode::kCorrupt, "'{}': version {}, expected 1", path, get_le(p + 9, 8));
  // Megatron's dtype codes: 1 uint8, 3 int16, 4 int32, 5 int64, 8 uint16.
  const int code = p[17];
  const int item = code == 8 ? 2 : code == 4 ? 4 : code == 1 ? 1 : code == 3 ? 2 : code == 5 ? 8 : 0;
  if (!item) return make_error(ErrorCode::kCorrupt, "'{}': unsupported dtype code {}", path, code);
  const uint64_t n = get_le(p + 18, 8), dn = get_le(p + 26, 8);
  if (n > m.size() / 12 || dn > m.size() / 8 || m.size() != 34 + n * 12 + dn * 8)
    return make_error(ErrorCode::kCorrupt, "'{}': {} bytes, which does not match the header (N = {} sequences, D = {} documents)",
                      path, m.size(), n, dn);
  uint64_t off = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len = get_le(p + 34 + 4 * i, 4), o = get_le(p + 34 + 4 * n + 8 * i, 8);
    if (o != off) return make_error(ErrorCode::kCorrupt, "'{}': sequence {} offset {}, expected {}", path, i, o, off);
    off += len * item;
  }
  const uint8_t* di = p + 34 + 12 * n;
  if (dn == 0 || get_le(di, 8) != 0 || get_le(di + 8 * (dn - 1), 8) != n)
    return make_error(ErrorCode::kCorrupt, "'{}': document_indices must start with 0 and end with N = {}", path, n);
  for (uint64_t i = 1; i < dn; ++i)
    if (get_le(di + 8 * i, 8) < get_le(di + 8 * (i - 1), 8))
      return make_error(ErrorCode::kCorrupt, "'{}': document_indices decrease at {}", path, i);
  std::string bin = path.substr(0, path.size() - 4) + ".bin";
  LONGCTX_ASSIGN_OR_RETURN(uint64_t bs, file_size(bin));
  if (bs != off) return make_error(ErrorCode::kCorrupt, "'{}': {} bytes, the index implies {}", bin, bs, off);
  return check_file_ids(bin, 0, item, code == 3 || code == 4 || code == 5, vocab_size);
}

Status verify_llmc(const std::string& path, const uint8_t* head, uint64_t size, uint64_t vocab_size) {
  if (size < 1024) return make_error(ErrorCode::kCorrupt, "'{}': shorter than the 1,024-byte llm.c header", path);
  int32_t h[256];
  std::memcpy(h, head, sizeof h);
  const int item = h[0] == kLlmcMagicU16 && h[1] == kLlmcVersionU16 ? 2 : h[0] == kLlmcMagicU32 && h[1] == kLlmcVersionU32 ? 4 : 0;
  if (!item) return make_error(ErrorCode::kCorrupt, "'{}': llm.c magic {} with version {}, expected version {} or {}", path, h[0], h[1],
                               kLlmcVersionU16, kLlmcVersionU32);
  for (int i = 3; i < 256; ++i)
    if (h[i] != 0) return make_error(ErrorCode::kCorrupt, "'{}': header int {} is {}, expected 0", path, i, h[i]);
  if (h[2] < 0 || size != 1024 + static_cast<uint64_t>(h[2]) * item)
    return make_error(ErrorCode::kCorrupt, "'{}': {} bytes, header says {} tokens of {} bytes", path, size, h[2], item);
  return check_file_ids(path, 1024, item, false, vocab_size);
}

// One row: {"input_ids": [...], "source": [{"start", "end", ...}]}; ids checked, spans cover it.
Status verify_row(const std::string& path, size_t line, const std::string& text, uint64_t vocab_size, size_t* width) {
  try {
    auto row = nlohmann::json::parse(text);
    const auto& ids = row.at("input_ids");
    size_t len = ids.size();
    if (line == 1) *width = len;
    if (len != *width) return make_error(ErrorCode::kCorrupt, "'{}' line {}: {} input_ids, expected {}", path, line, len, *width);
    for (size_t i = 0; i < len; ++i) {
      if (!ids[i].is_number_unsigned())
        return make_error(ErrorCode::kCorrupt, "'{}' line {}: input_ids[{}] is {}, expected a token id", path, line, i, ids[i].dump());
      if (vocab_size && ids[i].get<uint64_t>() >= vocab_size)
        return make_error(ErrorCode::kCorrupt, "'{}' line {}: input_ids[{}] is {}, not below the vocabulary size {}", path, line, i,
                          ids[i].get<uint64_t>(), vocab_size);
    }
    uint64_t at = 0;
    for (const auto& s : row.at("source")) {
      uint64_t a = s.at("start").get<uint64_t>(), b = s.at("end").get<uint64_t>();
      if (a != at || b <= a) return make_error(ErrorCode::kCorrupt, "'{}' line {}: span [{}, {}) expected to start at {}", path, line, a, b, at);
      at = b;
    }
    if (at != len) return make_error(ErrorCode::kCorrupt, "'{}' line {}: spans end at {}, row has {} ids", path, line, at, len);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "'{}' line {}: {}", path, line, e.what());
  }
  return Status::ok();
}

// Streams JSON lines (one row per line; memory: one line).
Status verify_rows(const std::string& path, uint64_t vocab_size) {
  size_t line = 0, width = 0;
  std::string cur;
  LONGCTX_RETURN_IF_ERROR(for_each_block(path, [&](const uint8_t* p, size_t n) -> Status {
    const char* c = reinterpret_cast<const char*>(p);
    for (const char* e = c + n; c < e;) {
      const char* nl = static_cast<const char*>(std::memchr(c, '\n', static_cast<size_t>(e - c)));
      cur.append(c, nl ? nl : e);
      if (!nl) break;
      LONGCTX_RETURN_IF_ERROR(verify_row(path, ++line, cur, vocab_size, &width));
      cur.clear();
      c = nl + 1;
    }
    return Status::ok();
  }));
  if (!cur.empty()) LONGCTX_RETURN_IF_ERROR(verify_row(path, ++line, cur, vocab_size, &width));
  return Status::ok();
}

// What a file that is none of the exports looks like, for the message.
std::string describe_file(const std::string& path, const uint8_t* head, size_t n) {
  auto starts = [&](const char* magic) { return n >= 8 && std::memcmp(head, magic, 8) == 0; };
  const std::string dir = parent_directory(path);
  if (n == 0) return "an empty file";
  if (starts(kPackedMagic)) return fmt::format("a native packed shard (LCTXPAK1): verify its directory '{}'", dir);
  if (starts(kTokensMagic)) return fmt::format("a document store's tokens.bin (LCTXTOK1): check the store with `longctx store verify {}`", dir);
  if (starts(kDocsMagic)) return fmt::format("a document store's docs.bin (LCTXDOC1): check the store with `longctx store verify {}`", dir);
  if (head[0] == '{' && ends_with(path, ".json"))
    return fmt::format("a JSON file (a manifest? verify the directory '{}' instead)", dir);
  if (ends_with(path, ".bin") && file_exists(path.substr(0, path.size() - 4) + ".idx"))
    return fmt::format("a Megatron data file: verify its index '{}.idx'", path.substr(0, path.size() - 4));
  std::string hex;
  for (size_t i = 0; i < std::min<size_t>(n, 8); ++i) hex += fmt::format("{}{:02x}", i ? " " : "", head[i]);
  return fmt::format("not a kind of file verify knows (first bytes {})", hex);
}

}  // namespace

uint64_t vocab_size_beside(const std::string& path) {
  auto m = read_packed_manifest(parent_directory(path));
  return m.is_ok() ? m->vocab_size : 0;
}

Status verify_export(const std::string& path, uint64_t vocab_size) {
  if (ends_with(path, ".idx")) return verify_megatron(path, vocab_size);
  uint8_t head[1024] = {};
  size_t n = 0;
  {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) return make_error(ErrorCode::kIo, "cannot open '{}'", path);
    n = std::fread(head, 1, sizeof head, f.get());
  }
  if (n >= 9 && std::memcmp(head, "MMIDIDX\x00\x00", 9) == 0) return verify_megatron(path, vocab_size);
  int32_t magic = 0;
  if (n >= 4) std::memcpy(&magic, head, 4);
  if (magic == kLlmcMagicU16 || magic == kLlmcMagicU32) {
    LONGCTX_ASSIGN_OR_RETURN(uint64_t size, file_size(path));
    return verify_llmc(path, head, size, vocab_size);
  }
  if (ends_with(path, ".jsonl") || (n > 0 && head[0] == '{' && !ends_with(path, ".json"))) return verify_rows(path, vocab_size);
  return make_error(ErrorCode::kCorrupt, "'{}' is {}; verify takes a packed mixture directory, a Megatron .idx, an llm.c .bin shard or JSON-lines rows",
                    path, describe_file(path, head, n));
}

}  // namespace longctx
