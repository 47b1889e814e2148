#include "model/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

namespace longctx::model {

namespace {
struct DTypeEntry {
  DType t;
  const char* name;
  size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::kBool, "BOOL", 1}, {DType::kU8, "U8", 1},       {DType::kI8, "I8", 1},
    {DType::kF8E5M2, "F8_E5M2", 1}, {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kI16, "I16", 2},
    {DType::kU16, "U16", 2},   {DType::kF16, "F16", 2},     {DType::kBF16, "BF16", 2},
    {DType::kI32, "I32", 4},   {DType::kU32, "U32", 4},     {DType::kF32, "F32", 4},
    {DType::kF64, "F64", 8},   {DType::kI64, "I64", 8},     {DType::kU64, "U64", 8},
};
}  // namespace

const char* dtype_name(DType t) {
  for (const auto& e : kDTypes)
    if (e.t == t) return e.name;
  return "?";
}
size_t dtype_size(DType t) {
  for (const auto& e : kDTypes)
    if (e.t == t) return e.size;
  return 0;
}
Result<DType> parse_dtype(const std::string& name) {
  for (const auto& e : kDTypes)
    if (name == e.name) return e.t;
  return make_error(ErrorCode::kCorrupt, "unknown dtype '{}'", name);
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// ---- half precision conversions (IEEE 754 binary16, bfloat16) ----

float f16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: man * 2^-24
      const float f = (float)man * 0x1p-24f;
      return sign ? -f : f;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  }
  return std::bit_cast<float>(bits);
}

float bf16_to_f32(uint16_t h) { return std::bit_cast<float>((uint32_t)h << 16); }

uint16_t f32_to_bf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1);  // round to nearest even
  return (uint16_t)(x >> 16);
}

uint16_t f32_to_f16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00;  // NaN
  if (ax >= 0x477ff000u) return sign | 0x7c00;  // rounds to >= 65520: inf
  if (ax < 0x38800000u) {  // below 2^-14: subnormal or zero, value = m * 2^-24
    const float af = std::bit_cast<float>(ax);
    const float scaled = af * 0x1p24f;  // exact; round half to even with nearbyint
    return sign | (uint16_t)std::nearbyint(scaled);
  }
  // normal: keep 10 mantissa bits, round to nearest even on the 13 dropped bits
  uint32_t r = ax + 0xfffu + ((ax >> 13) & 1);
  r -= 112u << 23;
  return sign | (uint16_t)(r >> 13);
}

// ---- parsing ----

namespace {

// One tensor's header entry: {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}, the
// span checked against shape x dtype size.
Result<TensorInfo> parse_tensor_entry(const std::string& name, const nlohmann::json& v) {
  if (!v.is_object()) return make_error(ErrorCode::kCorrupt, "tensor '{}': entry is not an object", name);
  TensorInfo t;
  t.name = name;
  auto dt = v.find("dtype");
  if (dt == v.end() || !dt->is_string())
    return make_error(ErrorCode::kCorrupt, "tensor '{}': missing string field 'dtype'", name);
  auto pd = parse_dtype(dt->get<std::string>());
  if (!pd.is_ok()) return pd.status().with_context(fmt::format("tensor '{}'", name));
  t.dtype = *pd;
  auto sh = v.find("shape");
  if (sh == v.end() || !sh->is_array())
    return make_error(ErrorCode::kCorrupt, "tensor '{}': missing array field 'shape'", name);
  uint64_t numel = 1;
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned())
      return make_error(ErrorCode::kCorrupt, "tensor '{}': shape entries must be non-negative integers", name);
    const uint64_t dim = d.get<uint64_t>();
    if (dim != 0 && numel > (uint64_t)INT64_MAX / dim)
      return make_error(ErrorCode::kCorrupt, "tensor '{}': shape overflows", name);
    numel *= dim;
    t.shape.push_back((int64_t)dim);
  }
  auto off = v.find("data_offsets");
  if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned())
    return make_error(ErrorCode::kCorrupt, "tensor '{}': 'data_offsets' must be [begin, end]", name);
  t.begin = (*off)[0].get<uint64_t>();
  t.end = (*off)[1].get<uint64_t>();
  if (t.end < t.begin)
    return make_error(ErrorCode::kCorrupt, "tensor '{}': data_offsets end {} < begin {}", name, t.end, t.begin);
  const uint64_t bytes = t.end - t.begin;
  if (numel > UINT64_MAX / dtype_size(t.dtype) || bytes != numel * dtype_size(t.dtype))
    return make_error(ErrorCode::kCorrupt,
                      "tensor '{}': data_offsets span {} bytes but shape x {} needs {}", name, bytes,
                      dtype_name(t.dtype), numel * dtype_size(t.dtype));
  return t;
}

// Sorts the tensors by offset and checks they tile the data buffer exactly: no overlap, no gap,
// nothing missing or left over.
Status check_tensor_coverage(SafetensorsHeader* h, uint64_t buffer_size) {
  std::sort(h->tensors.begin(), h->tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expect = 0;
  for (const TensorInfo& t : h->tensors) {
    if (t.begin < expect)
      return make_error(ErrorCode::kCorrupt, "tensor '{}': data [{}, {}) overlaps the previous tensor (ends at {})",
                        t.name, t.begin, t.end, expect);
    if (t.begin > expect)
      return make_error(ErrorCode::kCorrupt, "tensor '{}': gap in the data buffer, begins at {} but previous tensor ends at {}",
                        t.name, t.begin, expect);
    expect = t.end;
  }
  if (expect != buffer_size)
    return make_error(ErrorCode::kCorrupt,
                      "data buffer is {} bytes but the tensors cover {} (truncated or trailing bytes)",
                      buffer_size, expect);
  return Status::ok();
}

}  // namespace

Result<SafetensorsHeader> parse_safetensors(std::string_view file) {
  if (file.size() < 8)
    return make_error(ErrorCode::kCorrupt, "file is {} bytes, shorter than the 8-byte header length",
                      file.size());
  uint64_t n;
  std::memcpy(&n, file.data(), 8);
  if (n > kMaxSafetensorsHeader)
    return make_error(ErrorCode::kCorrupt, "header length {} exceeds the limit of {} bytes", n,
                      kMaxSafetensorsHeader);
  if (n > file.size() - 8)
    return make_error(ErrorCode::kCorrupt,
                      "header length {} runs past the end of the file ({} bytes after the length)", n,
                      file.size() - 8);
  SafetensorsHeader h;
  h.data_start = 8 + n;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(file.substr(8, n));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "header is not valid JSON: {}", e.what());
  }
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "header JSON is not an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return make_error(ErrorCode::kCorrupt, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          return make_error(ErrorCode::kCorrupt, "__metadata__ value of '{}' is not a string", m.key());
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    LONGCTX_ASSIGN_OR_RETURN(TensorInfo t, parse_tensor_entry(name, v));
    h.tensors.push_back(std::move(t));
  }
  LONGCTX_RETURN_IF_ERROR(check_tensor_coverage(&h, file.size() - h.data_start));
  return h;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  LONGCTX_ASSIGN_OR_RETURN(f.map_, MappedFile::open(path));
  auto h = parse_safetensors(f.map_.view());
  if (!h.is_ok()) return h.status().with_context(path);
  f.header_ = std::move(h).value();
  for (size_t i = 0; i < f.header_.tensors.size(); i++) f.index_[f.header_.tensors[i].name] = i;
  return f;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

Status SafetensorsFile::read_f32(const TensorInfo& t, float* out) const {
  const uint8_t* p = map_.data() + header_.data_start + t.begin;
  const int64_t n = t.numel();
  switch (t.dtype) {
    case DType::kF32:
      std::memcpy(out, p, (size_t)n * 4);
      return Status::ok();
    case DType::kF16:
    case DType::kBF16:
      for (int64_t i = 0; i < n; i++) {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        out[i] = t.dtype == DType::kF16 ? f16_to_f32(v) : bf16_to_f32(v);
      }
      return Status::ok();
    case DType::kF64:
      for (int64_t i = 0; i < n; i++) {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = (float)v;
      }
      return Status::ok();
    default:
      return make_error(ErrorCode::kUnsupported, "{}: tensor '{}' has dtype {}, expected F32, F16, BF16 or F64",
                        path_, t.name, dtype_name(t.dtype));
  }
}

// ---- writing ----

std::string safetensors_header_json(const std::vector<TensorToWrite>& tensors, DType dtype,
                                    const std::map<std::string, std::string>& metadata) {
  // Built by hand (not nlohmann's sorted object) so tensors keep the caller's order.
  std::string s = "{";
  if (!metadata.empty()) {
    s += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) s += ",";
      first = false;
      s += nlohmann::json(k).dump() + ":" + nlohmann::json(v).dump();
    }
    s += "}";
  }
  uint64_t off = 0;
  for (const TensorToWrite& t : tensors) {
    if (s.size() > 1) s += ",";
    int64_t numel = 1;
    std::string shape = "[";
    for (size_t i = 0; i < t.shape.size(); i++) {
      numel *= t.shape[i];
      shape += (i ? "," : "") + std::to_string(t.shape[i]);
    }
    shape += "]";
    const uint64_t end = off + (uint64_t)numel * dtype_size(dtype);
    s += nlohmann::json(t.name).dump() + ":{\"dtype\":\"" + dtype_name(dtype) + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(end) + "]}";
    off = end;
  }
  s += "}";
  while (s.size() % 8 != 0) s += ' ';
  return s;
}

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         DType dtype, const std::map<std::string, std::string>& metadata) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16)
    return make_error(ErrorCode::kInvalidArgument, "safetensors writer: dtype {} not supported (F32, F16, BF16)",
                      dtype_name(dtype));
  const std::string header = safetensors_header_json(tensors, dtype, metadata);
  LONGCTX_ASSIGN_OR_RETURN(AtomicWriter w, AtomicWriter::open(path));
  LONGCTX_RETURN_IF_ERROR(w.file().write_pod<uint64_t>(header.size()));
  LONGCTX_RETURN_IF_ERROR(w.write(header));
  std::vector<uint16_t> half;
  for (const TensorToWrite& t : tensors) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    if (dtype == DType::kF32) {
      LONGCTX_RETURN_IF_ERROR(w.write(t.data, (size_t)n * 4));
      continue;
    }
    half.resize(n);
    for (int64_t i = 0; i < n; i++)
      half[i] = dtype == DType::kF16 ? f32_to_f16(t.data[i]) : f32_to_bf16(t.data[i]);
    LONGCTX_RETURN_IF_ERROR(w.write(half.data(), (size_t)n * 2));
  }
  return w.commit();
}

}  // namespace longctx::model
