//===- Distributed.cpp - the processes of a data-parallel run -------------===//

#include "runtime/Distributed.h"

#include <cstdlib>
#include <initializer_list>

using namespace vae;

Communicator &vae::singleProcess() {
  static Communicator alone;
  return alone;
}

bool vae::startedByMpiLauncher() {
  // Open MPI's mpirun, then PMIx and PMI launchers (MPICH's mpiexec, Slurm).
  for (const char *variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"})
    if (std::getenv(variable))
      return true;
  return false;
}
