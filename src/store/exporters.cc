#include "store/exporters.h"

#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/file_io.h"

namespace longctx {
namespace {

// Calls fn(tokens of one span, span) for every span of every chunk, in order.
template <typename Fn>
Status for_each_span(const PackedDataset& d, Fn&& fn) {
  std::vector<uint32_t> toks;
  for (const auto& path : d.shard_files) {
    LONGCTX_ASSIGN_OR_RETURN(PackedShard s, PackedShard::open(path));
    for (uint64_t c = 0; c < s.num_chunks(); ++c) {
      s.chunk_tokens(c, &toks);
      for (const PackedSpan& sp : s.chunk_spans(c))
        LONGCTX_RETURN_IF_ERROR(fn(std::span<const uint32_t>(toks.data() + sp.start, sp.end - sp.start), sp));
    }
  }
  return Status::ok();
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
  if (vocab_size == 0) vocab_size = d.manifest.value("vocab_size", uint64_t{0});
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
  AtomicWriter w;
  uint64_t in_file = 0;
  std::string buf;
  auto close_file = [&]() -> Status {
    if (!w.file().is_open()) return Status::ok();
    LONGCTX_RETURN_IF_ERROR(w.file().flush());
    std::string tmp = w.file().path();
    int32_t head[3] = {item == 2 ? kLlmcMagicU16 : kLlmcMagicU32, item == 2 ? kLlmcVersionU16 : kLlmcVersionU32,
                       static_cast<int32_t>(in_file)};
    LONGCTX_RETURN_IF_ERROR(write_at(tmp, 0, head, sizeof head));
    LONGCTX_RETURN_IF_ERROR(w.commit());
    w = AtomicWriter();
    return Status::ok();
  };
  auto open_file = [&]() -> Status {
    std::string path = fmt::format("{}_{:06d}.bin", out_prefix, sum.files.size());
    LONGCTX_ASSIGN_OR_RETURN(w, AtomicWriter::open(path));
    sum.files.push_back(path);
    in_file = 0;
    std::string zero(1024, '\0');
    return w.write(zero);
  };
  Status st = for_each_span(d, [&](std::span<const uint32_t> t, const PackedSpan& sp) -> Status {
    if (sp.domain == kPadDomain) return Status::ok();
    if (sp.flags & kSpanStart) ++sum.sequences;
    size_t i = 0;
    while (i < t.size()) {
      if (!w.file().is_open() || in_file == max_tokens_per_file) {
        LONGCTX_RETURN_IF_ERROR(close_file());
        LONGCTX_RETURN_IF_ERROR(open_file());
      }
      size_t n = std::min<uint64_t>(t.size() - i, max_tokens_per_file - in_file);
      buf.clear();
      for (size_t k = i; k < i + n; ++k) put_le(buf, t[k], item);
      LONGCTX_RETURN_IF_ERROR(w.write(buf));
      in_file += n;
      sum.tokens += n;
      i += n;
    }
    return Status::ok();
  });
  LONGCTX_RETURN_IF_ERROR(st);
  LONGCTX_RETURN_IF_ERROR(close_file());
  return sum;
}

Result<ExportSummary> export_jsonl(const PackedDataset& d, const std::string& out_path) {
  LONGCTX_ASSIGN_OR_RETURN(AtomicWriter w, AtomicWriter::open(out_path));
  ExportSummary sum;
  sum.files.push_back(out_path);
  std::vector<uint32_t> toks;
  for (const auto& path : d.shard_files) {
    LONGCTX_ASSIGN_OR_RETURN(PackedShard s, PackedShard::open(path));
    for (uint64_t c = 0; c < s.num_chunks(); ++c) {
      s.chunk_tokens(c, &toks);
      nlohmann::json row;
      row["input_ids"] = toks;
      nlohmann::json src = nlohmann::json::array();
      for (const PackedSpan& sp : s.chunk_spans(c)) {
        std::string name = sp.domain == kPadDomain ? "<pad>" : sp.domain < d.domains.size() ? d.domains[sp.domain] : "?";
        src.push_back({{"source", name}, {"start", sp.start}, {"end", sp.end}});
      }
      row["source"] = std::move(src);
      LONGCTX_RETURN_IF_ERROR(w.write(row.dump() + "\n"));
      ++sum.sequences;
      sum.tokens += toks.size();
    }
  }
  LONGCTX_RETURN_IF_ERROR(w.commit());
  return sum;
}

Status verify_export(const std::string& path) {
  auto ends = [&](const std::string& suf) { return path.size() >= suf.size() && path.compare(path.size() - suf.size(), suf.size(), suf) == 0; };
  if (ends(".idx")) {
    LONGCTX_ASSIGN_OR_RETURN(MappedFile m, MappedFile::open(path));
    const uint8_t* p = m.data();
    if (m.size() < 34 || std::memcmp(p, "MMIDIDX\x00\x00", 9) != 0)
      return make_error(ErrorCode::kCorrupt, "'{}': not a Megatron index (magic MMIDIDX\\0\\0)", path);
    if (get_le(p + 9, 8) != 1) return make_error(ErrorCode::kCorrupt, "'{}': version {}, expected 1", path, get_le(p + 9, 8));
    int code = p[17];
    int item = code == 8 ? 2 : code == 4 ? 4 : code == 1 ? 1 : code == 3 ? 2 : code == 5 ? 8 : 0;
    if (!item) return make_error(ErrorCode::kCorrupt, "'{}': unsupported dtype code {}", path, code);
    uint64_t n = get_le(p + 18, 8), dn = get_le(p + 26, 8);
    // In 128 bits: in 64 a hostile N or D can wrap the implied size around to the true one.
    using u128 = __uint128_t;
    if (u128{m.size()} != 34 + u128{n} * 12 + u128{dn} * 8)
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
    return Status::ok();
  }
  if (ends(".jsonl")) {
    LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(path));
    size_t pos = 0, line = 0, width = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      ++line;
      try {
        auto row = nlohmann::json::parse(text.substr(pos, nl - pos));
        size_t len = row.at("input_ids").size();
        if (line == 1) width = len;
        if (len != width) return make_error(ErrorCode::kCorrupt, "'{}' line {}: {} input_ids, expected {}", path, line, len, width);
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
      pos = nl + 1;
    }
    return Status::ok();
  }
  LONGCTX_ASSIGN_OR_RETURN(MappedFile m, MappedFile::open(path));
  if (m.size() < 1024) return make_error(ErrorCode::kCorrupt, "'{}': shorter than the 1,024-byte llm.c header", path);
  int32_t h[256];
  std::memcpy(h, m.data(), sizeof h);
  int item = h[0] == kLlmcMagicU16 && h[1] == kLlmcVersionU16 ? 2 : h[0] == kLlmcMagicU32 && h[1] == kLlmcVersionU32 ? 4 : 0;
  if (!item) return make_error(ErrorCode::kCorrupt, "'{}': magic {} version {} is not an llm.c shard", path, h[0], h[1]);
  for (int i = 3; i < 256; ++i)
    if (h[i] != 0) return make_error(ErrorCode::kCorrupt, "'{}': header int {} is {}, expected 0", path, i, h[i]);
  if (h[2] < 0 || m.size() != 1024 + static_cast<uint64_t>(h[2]) * item)
    return make_error(ErrorCode::kCorrupt, "'{}': {} bytes, header says {} tokens of {} bytes", path, m.size(), h[2], item);
  return Status::ok();
}

}  // namespace longctx
