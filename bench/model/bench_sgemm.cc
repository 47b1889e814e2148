// The machine's sgemm ceiling (OpenBLAS, all threads, large square product) next to the matrix
// products of a hidden-512 training step through our deterministic blocked sgemm
// (kernels/cpu/linear.h), forward and both backward products, at N = 4096 tokens.
// Usage: bench_sgemm [threads]
#include "bench_util.h"
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "kernels/cpu/linear.h"
#include "kernels/cpu/threads.h"

extern "C" void openblas_set_num_threads(int);


int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int S = 2048;
  std::vector<float> a((size_t)S * S, 0.5f), b((size_t)S * S, 0.25f), c((size_t)S * S);
  openblas_set_num_threads(threads);
  const double tc = time_best([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, S, S, 1.0f, a.data(), S, b.data(), S, 0.0f,
                c.data(), S);
  }, 3);
  const double ceiling = 2.0 * S * S * S / tc / 1e9;
  std::printf("sgemm ceiling: OpenBLAS %d threads, %dx%dx%d: %.1f GFLOP/s\n", threads, S, S, S, ceiling);
  longctx::cpu::set_num_threads(threads);  // OpenBLAS back to 1 thread inside our blocks
  const int N = 4096, C = 512, I = 1408, V = 32000;
  struct Shape {
    const char* name;
    int in, out;
  } shapes[] = {{"qkv   512->1536", C, 3 * C}, {"o     512->512", C, C}, {"gate+up 512->2816", C, 2 * I},
                {"down 1408->512", I, C}, {"lm_head 512->32000 (256-row chunk)", C, V}};
  std::printf("%-36s %10s %10s %10s   (GFLOP/s; ceiling %.1f)\n", "linear, N=4096 tokens", "forward",
              "d input", "d weight", ceiling);
  for (const Shape& s : shapes) {
    const int n = s.out == V ? 256 : N;
    std::vector<float> x((size_t)n * s.in, 0.1f), w((size_t)s.out * s.in, 0.01f), y((size_t)n * s.out, 0.2f);
    std::vector<float> dx((size_t)n * s.in), dw((size_t)s.out * s.in);
    const double fl = 2.0 * n * s.in * s.out;
    const double tf = time_best([&] { longctx::cpu::linear_forward(y.data(), x.data(), w.data(), n, s.in, s.out); }, 3);
    const double ti = time_best([&] {
      longctx::cpu::sgemm(false, false, n, s.in, s.out, 1.0f, y.data(), s.out, w.data(), s.in, 1.0f, dx.data(), s.in);
    }, 3);
    const double tw = time_best([&] {
      longctx::cpu::sgemm(true, false, s.out, s.in, n, 1.0f, y.data(), s.out, x.data(), s.in, 1.0f, dw.data(), s.in);
    }, 3);
    std::printf("%-36s %10.1f %10.1f %10.1f\n", s.name, fl / tf / 1e9, fl / ti / 1e9, fl / tw / 1e9);
  }
  return 0;
}
