// NumPy .npy (format version 1.0) for float32 arrays, so logits can be compared with other
// implementations (numpy.load). Layout: "\x93NUMPY", 1, 0, u16 header length, header dict
// padded with spaces and '\n' so that the data starts at a multiple of 64 bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace longctx::model {

std::string npy_header_f32(const std::vector<int64_t>& shape);
Status write_npy_f32(const std::string& path, const float* data, const std::vector<int64_t>& shape);

}  // namespace longctx::model
