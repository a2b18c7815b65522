//===- Distributed.h - the processes of a data-parallel run -----*- C++ -*-===//
//
// vae-train under mpirun trains one model on N processes: each takes its
// share of every global batch, the gradients are summed across them, and
// every process applies the same update (docs/distributed.md). The trainer
// sees the processes through Communicator; libvaert itself links no MPI
// (runtime/MpiCommunicator.cpp does, in vae-train where MPI was found).
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_DISTRIBUTED_H
#define VAE_RUNTIME_DISTRIBUTED_H

#include <cstddef>

namespace vae {

/// The processes of a run and the collectives the trainer needs. The base
/// class is a run of one process: every collective is the identity.
class Communicator {
public:
  virtual ~Communicator() = default;
  /// This process's index, 0 to size() - 1; rank 0 writes the run's files.
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  bool distributed() const { return size() > 1; }
  bool lead() const { return rank() == 0; }
  /// Sums `count` values across the processes, in place, on every one.
  virtual void allreduceSum(float *, size_t) {}
  virtual void allreduceSum(double *, size_t) {}
  /// Rank 0's `bytes` bytes at `data` into every other process's.
  virtual void broadcast(void *, size_t) {}
  /// Returns when every process has called it.
  virtual void barrier() {}
};

/// The run of this process alone.
Communicator &singleProcess();

/// Whether an MPI launcher (mpirun, mpiexec, srun) started this process: its
/// environment says so.
bool startedByMpiLauncher();

} // namespace vae

#endif // VAE_RUNTIME_DISTRIBUTED_H
