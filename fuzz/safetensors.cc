// Fuzz target: safetensors (src/model/safetensors.h): the header parser on a buffer, then, for a
// file it accepts, the memory-mapped reader converting each float tensor to float32.
#include <vector>

#include "fuzz_util.h"
#include "model/safetensors.h"

using namespace longctx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto h = model::parse_safetensors(bytes);
  if (!h.is_ok()) return 0;
  auto f = model::SafetensorsFile::open(fuzz::put_file("model.safetensors", bytes));
  if (!f.is_ok()) std::abort();  // the same bytes parsed from memory must open from a file
  std::vector<float> out;
  for (const auto& t : f->header().tensors) {
    if (f->find(t.name) == nullptr) std::abort();
    if (t.dtype != model::DType::kF32 && t.dtype != model::DType::kF16 && t.dtype != model::DType::kBF16 &&
        t.dtype != model::DType::kF64)
      continue;
    out.resize(static_cast<size_t>(t.numel()));
    (void)f->read_f32(t, out.data());
  }
  return 0;
}
