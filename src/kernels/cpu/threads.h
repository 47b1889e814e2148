// Thread control shared by the OpenMP loops of every kernel and OpenBLAS (design.md "Scale": use
// all cores). OpenBLAS (pthreads build on Debian) runs its own pool; our OpenMP regions never call
// BLAS inside a parallel region, so setting both to the same count avoids oversubscription.
#pragma once

namespace longctx::cpu {

// Sets OpenMP's and OpenBLAS's thread counts to n (n <= 0: number of cores).
void set_num_threads(int n);
int num_threads();

}  // namespace longctx::cpu
