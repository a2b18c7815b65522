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
#include <functional>
#include <string>

namespace vae::gpu {

/// The process's GPU: the driver with device 0's primary context current.
/// Every launch and copy goes to one stream of its own, in the order they
/// are issued; a second stream carries the next batch's inputs up while a
/// step runs (DeviceBuffers::stageStep).
class Device {
public:
  /// Opens the driver on first use; null with `error` saying what is missing.
  static Device *open(std::string &error);
  /// The device opened before (null if none).
  static Device *current();
  cuda::Driver &driver() { return *cudaDriver; }

  /// The stream every kernel and copy of the model runs on.
  cuda::Stream stream() const { return computeStream; }
  /// The stream that uploads staged step inputs.
  cuda::Stream copyStream() const { return uploadStream; }

  cuda::DevicePtr allocate(size_t bytes);
  void free(cuda::DevicePtr pointer);
  /// Queued on stream(); `from` may be reused when it returns (the driver
  /// copies pageable memory before it does).
  void upload(cuda::DevicePtr to, const void *from, size_t bytes);
  /// Queued on stream() and waited for, with every kernel before it.
  void download(void *to, cuda::DevicePtr from, size_t bytes);
  /// Waits for everything queued on stream(); `what` names it in an error
  /// (a kernel's fault surfaces here).
  void synchronize(const char *what);
  /// Page-locked host memory, which asynchronous copies need.
  void *allocateHost(size_t bytes);
  void freeHost(void *pointer);
  cuda::Event newEvent();
  /// `what` stops the process if `result` is an error (see fatal).
  void check(cuda::Result result, const std::string &what) {
    if (result)
      fatal(what, result);
  }
  /// Stops the process with `what` failed and the driver's reason: the
  /// generated code has no error path, and a half-done step must not go on.
  [[noreturn]] void fatal(const std::string &what, cuda::Result result);

private:
  explicit Device(std::unique_ptr<cuda::Driver> driver) : cudaDriver(std::move(driver)) {}
  std::unique_ptr<cuda::Driver> cudaDriver;
  cuda::Stream computeStream = nullptr, uploadStream = nullptr;
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

  /// A training step's batch. stageStep copies it to page-locked memory
  /// and starts its upload on the copy stream, so that it overlaps the step
  /// in flight; takeStaged gives the next step its device copy (the compute
  /// stream waits for the upload). Two slots take turns.
  struct StepInputs {
    float *x, *eps, *weights;
  };
  void stageStep(const float *x, size_t xBytes, const float *eps, size_t epsBytes,
                 const float *weights, size_t weightsBytes);
  bool hasStaged() const { return staged; }
  StepInputs takeStaged();

  /// Queues the kernels `launches` issues on the device stream: captured
  /// into a CUDA graph that replaces the last one's kernel arguments in
  /// place (cuGraphExecUpdate) and launched as one, where the driver has
  /// graphs and $VAE_CUDA_GRAPHS is not 0. The first call launches
  /// directly (it loads the modules); so does every call when graphs are off.
  void launchStep(const std::function<void()> &launches);

  /// Queues the loss terms' copy back (`bytes` of slot Out0) and returns
  /// where they will be; waitStep waits for them.
  const float *fetchTermsAsync(size_t bytes);
  void waitStep();

private:
  struct StagingSlot {
    void *host = nullptr; // page-locked
    cuda::DevicePtr device = 0;
    size_t capacity = 0;
    cuda::Event uploaded = nullptr, consumed = nullptr;
    bool inUse = false; // consumed is recorded
  };
  std::array<StagingSlot, 2> staging;
  size_t stagedSlot = 0, lastTaken = 1;
  bool staged = false;
  size_t stagedOffsets[3] = {};
  cuda::GraphExec stepGraph = nullptr;
  long stepsLaunched = 0;
  float *termsHost = nullptr; // page-locked
  cuda::Event stepDone = nullptr;

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
