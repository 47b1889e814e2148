// Bound checks before the model engine allocates: sizes are computed with overflow checks and
// compared with the machine's memory, so no configuration, sequence length or flag reaches
// std::bad_alloc (or an allocation the operating system would only fail later, page by page).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "core/status.h"

namespace longctx::model {

// Saturating products and sums of non-negative sizes: INT64_MAX stands for "overflowed", which
// every later check then refuses.
int64_t sat_mul(int64_t a, int64_t b);
int64_t sat_add(int64_t a, int64_t b);

// Bytes of a buffer with the given dimensions of elem_size bytes each, or an error naming `what`
// when a dimension is negative or the product overflows int64.
Result<int64_t> checked_bytes(std::initializer_list<int64_t> dims, int64_t elem_size,
                              std::string_view what);

// Physical memory plus swap of this machine in bytes (the most any allocation can use).
int64_t machine_memory_bytes();

// Ok when `bytes` (INT64_MAX = overflowed) could be allocated on this machine; otherwise an error
// naming `what` with the size asked for and the memory there is.
Status check_allocation(int64_t bytes, std::string_view what);

}  // namespace longctx::model
