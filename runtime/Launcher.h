//===- Launcher.h - where a GPU library's kernels run -----------*- C++ -*-===//
//
// A `vaec --target=nvptx` library calls the launcher functions MLIR's GPU
// lowering emits (mgpuModuleLoadJIT, mgpuLaunchKernel, ...); libvaert
// defines them over the CUDA driver (CudaDriver.h), and vae-train exports
// them to the libraries it loads. Device memory and the device copies of a
// model's buffers live here too.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_LAUNCHER_H
#define VAE_RUNTIME_LAUNCHER_H

#include "runtime/CudaDriver.h"

#include <array>
#include <cstddef>
#include <string>

namespace vae::gpu {

/// The process's GPU: the driver with device 0's primary context current.
/// Every launch and copy goes to the legacy default stream, so they run in
/// the order they are issued and a copy back waits for the kernels before it.
class Device {
public:
  /// Opens the driver on first use; null with `error` saying what is missing.
  static Device *open(std::string &error);
  /// The device opened before (null if none).
  static Device *current();
  cuda::Driver &driver() { return *cudaDriver; }

  cuda::DevicePtr allocate(size_t bytes);
  void free(cuda::DevicePtr pointer);
  void upload(cuda::DevicePtr to, const void *from, size_t bytes);
  void download(void *to, cuda::DevicePtr from, size_t bytes);
  /// Stops the process with `what` failed and the driver's reason: the
  /// generated code has no error path, and a half-done step must not go on.
  [[noreturn]] void fatal(const std::string &what, cuda::Result result);

private:
  explicit Device(std::unique_ptr<cuda::Driver> driver) : cudaDriver(std::move(driver)) {}
  std::unique_ptr<cuda::Driver> cudaDriver;
};

/// A model's buffers on the device. The runtime keeps parameters and
/// optimizer state on the host as on the CPU; their device copies stay
/// resident, uploaded only when the host copy is new or was written
/// (initialization, a checkpoint read) and downloaded only when the host
/// reads them (a checkpoint write). Inputs and outputs of each call go
/// through device buffers of their own.
class DeviceBuffers {
public:
  /// The persistent buffers, and the inputs and outputs of an entry point.
  enum Slot { Params, State, Arena, X, Eps, Weights, Hyper, Out0, Out1, Out2, Grads, NumSlots };
  explicit DeviceBuffers(Device &device) : device(device) {}
  ~DeviceBuffers();
  DeviceBuffers(const DeviceBuffers &) = delete;
  DeviceBuffers &operator=(const DeviceBuffers &) = delete;

  /// The device copy of params or state at `host`, current. A slot follows
  /// one host buffer at a time: another host buffer is uploaded in its
  /// place (changes not yet synced back to the previous one are dropped:
  /// that buffer may be gone).
  void *resident(Slot slot, const void *host, size_t bytes);
  /// An entry point wrote the device copy: the host copy is stale.
  void deviceWrote(Slot slot) { buffers[slot].deviceNewer = true; }
  /// Brings the host copy at `host` up to date if a device copy is newer.
  void syncToHost(const void *host);
  /// The host wrote `host`: its device copy is stale.
  void hostWrote(const void *host);
  /// `bytes` of `host` in the slot's device buffer.
  void *input(Slot slot, const void *host, size_t bytes);
  /// A device buffer of at least `bytes` for the slot.
  void *scratch(Slot slot, size_t bytes);
  /// The first `bytes` of the slot's device buffer into `host`.
  void fetch(void *host, Slot slot, size_t bytes);

private:
  struct Buffer {
    cuda::DevicePtr pointer = 0;
    size_t capacity = 0;
    const void *host = nullptr; // Params, State: the host copy it mirrors
    bool hostNewer = false, deviceNewer = false;
  };
  Device &device;
  std::array<Buffer, NumSlots> buffers;
};

} // namespace vae::gpu

#endif // VAE_RUNTIME_LAUNCHER_H
