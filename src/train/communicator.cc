// The MPI communicator (compiled with LONGCTX_HAVE_MPI when CMake finds MPI) and the launch
// detection shared by both builds.
#include "train/communicator.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#ifdef LONGCTX_HAVE_MPI
#include <mpi.h>
#endif

namespace longctx::train {

namespace {
int env_int(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : 0;
}
}  // namespace

bool launched_by_mpi() {
  return env_int("OMPI_COMM_WORLD_SIZE") > 0 || env_int("PMI_SIZE") > 0 || env_int("PMIX_SIZE") > 0;
}

int local_ranks() {
  const int n = env_int("OMPI_COMM_WORLD_LOCAL_SIZE");
  return n > 0 ? n : 1;
}

#ifdef LONGCTX_HAVE_MPI
bool mpi_built() { return true; }

namespace {

Status mpi_status(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return Status::ok();
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  return make_error(ErrorCode::kIo, "MPI {}: {}", what, std::string(msg, (size_t)len));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "MPI, " + std::to_string(size_) + " ranks"; }
  Status sum(float* x, int64_t n) override { return sum_impl(x, n, MPI_FLOAT); }
  Status sum(double* x, int64_t n) override { return sum_impl(x, n, MPI_DOUBLE); }
  Status broadcast(void* data, int64_t bytes, int root) override {
    for (int64_t off = 0; off < bytes; off += kMaxCount) {
      const int c = (int)std::min<int64_t>(kMaxCount, bytes - off);
      LONGCTX_RETURN_IF_ERROR(mpi_status(MPI_Bcast((char*)data + off, c, MPI_BYTE, root, MPI_COMM_WORLD), "broadcast"));
    }
    return Status::ok();
  }
  Status barrier() override { return mpi_status(MPI_Barrier(MPI_COMM_WORLD), "barrier"); }

 private:
  static constexpr int64_t kMaxCount = 1 << 30;
  static constexpr int64_t kBlock = 1 << 20;  // elements per gather: rank 0 holds N blocks at once

  // Gather a block to rank 0, add in rank order, broadcast: the fixed order of the header comment.
  template <typename T>
  Status sum_impl(T* x, int64_t n, MPI_Datatype type) {
    if (size_ == 1) return Status::ok();
    std::vector<T> all(rank_ == 0 ? (size_t)(std::min(n, kBlock) * size_) : 0);
    for (int64_t off = 0; off < n; off += kBlock) {
      const int c = (int)std::min(kBlock, n - off);
      LONGCTX_RETURN_IF_ERROR(mpi_status(
          MPI_Gather(x + off, c, type, all.data(), c, type, 0, MPI_COMM_WORLD), "gather"));
      if (rank_ == 0) {
        for (int i = 0; i < c; i++) {
          T s = all[(size_t)i];
          for (int r = 1; r < size_; r++) s += all[(size_t)r * c + i];
          x[off + i] = s;
        }
      }
      LONGCTX_RETURN_IF_ERROR(mpi_status(MPI_Bcast(x + off, c, type, 0, MPI_COMM_WORLD), "broadcast"));
    }
    return Status::ok();
  }

  int rank_ = 0, size_ = 1;
};

}  // namespace

Result<std::unique_ptr<Communicator>> make_mpi_communicator() {
  int init = 0;
  MPI_Initialized(&init);
  if (!init) {
    int provided = 0;
    // FUNNELED: only the main thread calls MPI; OpenMP threads run the kernels in between.
    LONGCTX_RETURN_IF_ERROR(mpi_status(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "init"));
  }
  return std::unique_ptr<Communicator>(new MpiCommunicator());
}
#else
bool mpi_built() { return false; }

Result<std::unique_ptr<Communicator>> make_mpi_communicator() {
  return make_error(ErrorCode::kUnsupported,
                    "this longctx was built without MPI (install openmpi-bin and libopenmpi-dev, then rebuild)");
}
#endif

}  // namespace longctx::train
