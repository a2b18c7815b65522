//===- MpiCommunicator.h - a Communicator over MPI --------------*- C++ -*-===//
//
// In libvaempi, built where CMake finds MPI (VAEC_WITH_MPI) and linked by
// vae-train only: a model library and libvaert need no MPI.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_MPICOMMUNICATOR_H
#define VAE_RUNTIME_MPICOMMUNICATOR_H

#include "runtime/Distributed.h"

#include <memory>
#include <string>

namespace vae {

/// MPI_COMM_WORLD after MPI_Init; MPI_Finalize when it is destroyed.
/// Null with `error` set when MPI cannot start.
std::unique_ptr<Communicator> openMpi(int &argc, char **&argv, std::string &error);

/// Ends every process of the run at once with `code` (MPI_Abort): after an
/// error on one process, the others would wait for it forever.
[[noreturn]] void abortMpiRun(int code);

} // namespace vae

#endif // VAE_RUNTIME_MPICOMMUNICATOR_H
