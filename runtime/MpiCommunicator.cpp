//===- MpiCommunicator.cpp - a Communicator over MPI ----------------------===//

#include "runtime/MpiCommunicator.h"

#include <mpi.h>

#include <climits>
#include <cstdlib>

using namespace vae;

namespace {

class MpiCommunicator final : public Communicator {
public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &myRank);
    MPI_Comm_size(MPI_COMM_WORLD, &mySize);
  }
  ~MpiCommunicator() override { MPI_Finalize(); }
  int rank() const override { return myRank; }
  int size() const override { return mySize; }
  void allreduceSum(float *values, size_t count) override {
    for (size_t done = 0; done < count; done += kChunk)
      MPI_Allreduce(MPI_IN_PLACE, values + done, chunk(count - done), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
  }
  void allreduceSum(double *values, size_t count) override {
    for (size_t done = 0; done < count; done += kChunk)
      MPI_Allreduce(MPI_IN_PLACE, values + done, chunk(count - done), MPI_DOUBLE, MPI_SUM,
                    MPI_COMM_WORLD);
  }
  void broadcast(void *data, size_t bytes) override {
    for (size_t done = 0; done < bytes; done += kChunk)
      MPI_Bcast(static_cast<char *>(data) + done, chunk(bytes - done), MPI_BYTE, 0, MPI_COMM_WORLD);
  }
  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }

private:
  /// MPI counts are ints.
  static constexpr size_t kChunk = size_t(1) << 30;
  static int chunk(size_t left) { return int(left < kChunk ? left : kChunk); }
  int myRank = 0, mySize = 1;
};

} // namespace

std::unique_ptr<Communicator> vae::openMpi(int &argc, char **&argv, std::string &error) {
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    error = "MPI_Init failed";
    return nullptr;
  }
  // A failed collective (a process that died) ends the run with MPI's
  // message rather than returning an error the generated code cannot take.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  return std::make_unique<MpiCommunicator>();
}

void vae::abortMpiRun(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code); // (MPI_Abort does not return)
}
