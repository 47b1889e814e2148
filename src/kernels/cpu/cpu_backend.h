// The CPU implementation of the backend interface (kernels/backend.h): each method forwards to
// the kernel of the same name in this folder, unchanged (one file per op, each with a naive
// reference and tests in tests/kernels/).
#pragma once
#include "kernels/backend.h"

namespace longctx::cpu {

// The process-wide CPU backend (stateless: threads are set with cpu::set_num_threads).
const kernels::Backend& backend();

}  // namespace longctx::cpu
