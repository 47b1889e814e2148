// Thread control (use all cores). OpenMP owns the threads; OpenBLAS is kept at
// one thread and called from inside our OpenMP loops over fixed blocks (linear.h sgemm), so there
// is no oversubscription and results do not depend on the thread count.
#pragma once

namespace longctx::cpu {

// Sets OpenMP's thread count to n (n <= 0: number of cores) and OpenBLAS's to 1.
// Call once before using the kernels (the CLI, tests and benchmarks do).
void set_num_threads(int n);
int num_threads();

}  // namespace longctx::cpu
