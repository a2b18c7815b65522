//===- CudaDriver.h - the CUDA driver API, opened at run time ---*- C++ -*-===//
//
// vaec's GPU libraries (`--target=nvptx`) run through the CUDA
// driver API. libvaert opens it with dlopen("libcuda.so.1") when a GPU
// library is loaded: nothing CUDA at build time, no link dependency, and on
// a machine without the driver or without a GPU a clear error at once.
// The few types it needs are the driver's stable C ABI, declared here.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_CUDADRIVER_H
#define VAE_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vae::cuda {

// The driver's C types: CUresult (0 is CUDA_SUCCESS), CUdevice, CUdeviceptr,
// and its handles as the plain pointers they are in C, so that every call
// goes through a pointer of the function's own C type (UBSan's
// -fsanitize=function checks that).
using Result = int;
using Device = int;
using DevicePtr = unsigned long long;
using Context = void *;
using Module = void *;
using Function = void *;
using Stream = void *;
using Event = void *;
using Graph = void *;
using GraphExec = void *;

/// CU_STREAM_NON_BLOCKING: a stream that does not wait for the legacy
/// default stream (and that graph capture accepts).
constexpr unsigned kStreamNonBlocking = 1;
/// CU_STREAM_CAPTURE_MODE_RELAXED: capture that lets other threads (and the
/// launcher's caches) call the driver meanwhile.
constexpr int kCaptureModeRelaxed = 2;
/// CU_EVENT_DISABLE_TIMING: an event only for ordering, the cheapest kind.
constexpr unsigned kEventDisableTiming = 2;

/// CUgraphExecUpdateResultInfo (CUDA 12): why an update was refused.
struct GraphExecUpdateResultInfo {
  int result;
  void *errorNode, *errorFromNode;
};

/// The driver library's file: libcuda.so.1, or $VAE_CUDA_DRIVER where a
/// driver lives somewhere else.
std::string driverLibrary();

/// The driver entry points vae-train uses, resolved from libcuda.so.1, and
/// the primary context of device 0, current on the opening thread.
class Driver {
public:
  /// The driver with device 0's primary context made current; nullptr with
  /// `error` saying what is missing (the driver library, an entry point, a
  /// device) and what to do.
  static std::unique_ptr<Driver> open(std::string &error);
  ~Driver();
  Driver(const Driver &) = delete;
  Driver &operator=(const Driver &) = delete;

  /// "NVIDIA H200, compute capability 9.0".
  std::string deviceDescription() const;
  int computeCapability() const { return 10 * major + minor; }

  /// The driver's name and text for `result` ("CUDA_ERROR_NO_DEVICE: no
  /// CUDA-capable device is detected").
  std::string describe(Result result) const;

  Result (*moduleLoadData)(Module *, const void *) = nullptr;
  Result (*moduleUnload)(Module) = nullptr;
  Result (*moduleGetFunction)(Function *, Module, const char *) = nullptr;
  Result (*launchKernel)(Function, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                         unsigned, Stream, void **, void **) = nullptr;
  Result (*memAlloc)(DevicePtr *, size_t) = nullptr;
  Result (*memFree)(DevicePtr) = nullptr;
  Result (*memcpyHtoD)(DevicePtr, const void *, size_t) = nullptr;
  Result (*memcpyDtoH)(void *, DevicePtr, size_t) = nullptr;
  Result (*streamCreate)(Stream *, unsigned) = nullptr;
  Result (*streamDestroy)(Stream) = nullptr;
  Result (*streamSynchronize)(Stream) = nullptr;
  Result (*streamWaitEvent)(Stream, Event, unsigned) = nullptr;
  Result (*memcpyHtoDAsync)(DevicePtr, const void *, size_t, Stream) = nullptr;
  Result (*memcpyDtoHAsync)(void *, DevicePtr, size_t, Stream) = nullptr;
  /// Page-locked host memory: the only kind an asynchronous copy reads
  /// without the driver staging it first.
  Result (*memAllocHost)(void **, size_t) = nullptr;
  Result (*memFreeHost)(void *) = nullptr;
  Result (*eventCreate)(Event *, unsigned) = nullptr;
  Result (*eventDestroy)(Event) = nullptr;
  Result (*eventRecord)(Event, Stream) = nullptr;
  Result (*eventSynchronize)(Event) = nullptr;

  /// CUDA graphs (CUDA 12's entry points; all null where the driver lacks
  /// one, and then every step is launched kernel by kernel).
  bool hasGraphs() const { return graphExecUpdate != nullptr; }
  Result (*streamBeginCapture)(Stream, int) = nullptr;
  Result (*streamEndCapture)(Stream, Graph *) = nullptr;
  Result (*graphInstantiate)(GraphExec *, Graph, unsigned long long) = nullptr;
  /// (The last argument is a GraphExecUpdateResultInfo.)
  Result (*graphExecUpdate)(GraphExec, Graph, void *) = nullptr;
  Result (*graphLaunch)(GraphExec, Stream) = nullptr;
  Result (*graphDestroy)(Graph) = nullptr;
  Result (*graphExecDestroy)(GraphExec) = nullptr;

private:
  Driver() = default;
  void *library = nullptr;
  Device device = 0;
  Context context = nullptr;
  int major = 0, minor = 0;
  std::string name;
  Result (*getErrorName)(Result, const char **) = nullptr;
  Result (*getErrorString)(Result, const char **) = nullptr;
  Result (*primaryCtxRelease)(Device) = nullptr;
};

} // namespace vae::cuda

#endif // VAE_RUNTIME_CUDADRIVER_H
