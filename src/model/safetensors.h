// safetensors (Hugging Face weights), formats.md "safetensors": u64 header length N, N bytes of
// JSON, then the data buffer. The reader validates everything formats.md lists and names the
// tensor and the offending values in its errors; F32/F16/BF16 (and F64) convert to float32.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_io.h"
#include "core/status.h"

namespace longctx::model {

enum class DType { kBool, kU8, kI8, kF8E5M2, kF8E4M3, kI16, kU16, kF16, kBF16, kI32, kU32, kF32,
                   kF64, kI64, kU64 };

const char* dtype_name(DType t);
Result<DType> parse_dtype(const std::string& name);
size_t dtype_size(DType t);

constexpr uint64_t kMaxSafetensorsHeader = 100000000;  // formats.md: reject longer headers

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets relative to the data buffer
  int64_t numel() const;
};

struct SafetensorsHeader {
  std::map<std::string, std::string> metadata;
  std::vector<TensorInfo> tensors;  // sorted by begin
  uint64_t data_start = 0;          // 8 + N
};

// Validates a whole file image: header length, JSON, dtypes, shapes, offsets (contiguous from 0,
// sorted, no gaps or overlaps, sizes = numel x dtype size, last end = end of file).
Result<SafetensorsHeader> parse_safetensors(std::string_view file_bytes);

class SafetensorsFile {
 public:
  static Result<SafetensorsFile> open(const std::string& path);
  const SafetensorsHeader& header() const { return header_; }
  const TensorInfo* find(const std::string& name) const;
  // Raw little-endian bytes of a tensor (t.end - t.begin of them).
  const uint8_t* data(const TensorInfo& t) const { return map_.data() + header_.data_start + t.begin; }
  // Converts F32, F16, BF16 or F64 data to float32; out holds numel floats.
  Status read_f32(const TensorInfo& t, float* out) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  MappedFile map_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;
};

struct TensorToWrite {
  std::string name;
  std::vector<int64_t> shape;
  const float* data = nullptr;  // numel float32 values, converted to the file dtype
};

// Writes tensors in the given order with dtype F32, F16 or BF16 (round to nearest even).
// Header JSON is compact, "__metadata__" first, padded with spaces to a multiple of 8.
Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         DType dtype, const std::map<std::string, std::string>& metadata);
std::string safetensors_header_json(const std::vector<TensorToWrite>& tensors, DType dtype,
                                    const std::map<std::string, std::string>& metadata);

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
uint16_t f32_to_bf16(float f);

}  // namespace longctx::model
