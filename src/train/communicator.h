// Data parallelism behind one small interface (docs/training.md "Data parallel"): every rank runs
// the same loop on its share of the micro-batches, and the gradients are summed across ranks
// before the identical optimizer update on every rank. Implementations: one process (no-op
// collectives) and MPI (OpenMPI from Debian, `mpirun -np N longctx train ...`, built when CMake
// finds MPI); an NCCL one would implement the same four calls.
//
// Determinism: sum() adds the ranks' buffers in rank order, x_0 + x_1 + ... + x_{N-1}, in that
// order for every element (the MPI implementation gathers each block to rank 0, adds in rank
// order there and broadcasts the result), so a rerun with the same N gives the same bits. MPI's
// own all-reduce may pick its reduction tree by message size and process placement, which would
// make the bits depend on the launch.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace longctx::train {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;
  // Element-wise sum over ranks in rank order; every rank receives the result.
  virtual Status sum(float* x, int64_t n) = 0;
  virtual Status sum(double* x, int64_t n) = 0;
  // Rank root's bytes to every rank.
  virtual Status broadcast(void* data, int64_t bytes, int root) = 0;
  virtual Status barrier() = 0;
};

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "single process"; }
  Status sum(float*, int64_t) override { return Status::ok(); }
  Status sum(double*, int64_t) override { return Status::ok(); }
  Status broadcast(void*, int64_t, int) override { return Status::ok(); }
  Status barrier() override { return Status::ok(); }
};

// Whether this build has the MPI communicator.
bool mpi_built();
// Whether the process was started by mpirun/mpiexec (OpenMPI or PMI environment variables).
bool launched_by_mpi();
// Ranks of this job on this machine (for the default thread count); 1 outside mpirun.
int local_ranks();
// Initialises MPI (once per process) and returns its communicator; an error when the build has
// no MPI. MPI is finalised when the communicator is destroyed.
Result<std::unique_ptr<Communicator>> make_mpi_communicator();

}  // namespace longctx::train
