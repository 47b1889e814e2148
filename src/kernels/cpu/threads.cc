#include "kernels/cpu/threads.h"

#include <omp.h>

extern "C" void openblas_set_num_threads(int num_threads);

namespace longctx::cpu {

void set_num_threads(int n) {
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n);
  // BLAS runs single-threaded inside our OpenMP blocks (linear.h sgemm): no oversubscription.
  openblas_set_num_threads(1);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace longctx::cpu
