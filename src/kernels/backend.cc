#include "kernels/backend.h"

#include "kernels/cpu/cpu_backend.h"

namespace longctx::kernels {

// A CUDA build would pick its backend here (kernels/cuda/), keeping the CPU one for the ops the
// device backend does not support.
const Backend& default_backend() { return cpu::backend(); }

}  // namespace longctx::kernels
