//===- Launcher.cpp - where a GPU library's kernels run -------------------===//

#include "runtime/Launcher.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <utility>

using namespace vae;
using namespace vae::gpu;

namespace {

std::mutex deviceMutex;
Device *openedDevice = nullptr;
std::string openError;

/// What the launcher functions keep: a library's PTX is compiled by the
/// driver once, on its first launch, and each kernel looked up once (the
/// generated code asks for the module and the function before every launch).
struct LaunchCache {
  std::mutex mutex;
  std::map<const void *, cuda::Module> modules;
  std::map<std::pair<cuda::Module, const char *>, cuda::Function> functions;
  std::map<cuda::Function, std::string> names;
};

LaunchCache &launchCache() {
  static LaunchCache cache;
  return cache;
}

Device &launchDevice() {
  Device *device = Device::current();
  if (!device) {
    std::fprintf(stderr, "error: a GPU library launched a kernel before libvaert opened the "
                         "CUDA driver (load it with vae::Model::load)\n");
    std::exit(1);
  }
  return *device;
}

} // namespace

Device *Device::open(std::string &error) {
  std::lock_guard<std::mutex> lock(deviceMutex);
  if (!openedDevice && openError.empty()) {
    std::unique_ptr<cuda::Driver> driver = cuda::Driver::open(openError);
    if (driver)
      openedDevice = new Device(std::move(driver)); // lives until exit
  }
  if (!openedDevice)
    error = openError;
  return openedDevice;
}

Device *Device::current() {
  std::lock_guard<std::mutex> lock(deviceMutex);
  return openedDevice;
}

void Device::fatal(const std::string &what, cuda::Result result) {
  std::fprintf(stderr, "error: GPU (%s): %s failed: %s\n",
               cudaDriver->deviceDescription().c_str(), what.c_str(),
               cudaDriver->describe(result).c_str());
  std::exit(1);
}

cuda::DevicePtr Device::allocate(size_t bytes) {
  cuda::DevicePtr pointer = 0;
  if (cuda::Result result = cudaDriver->memAlloc(&pointer, bytes == 0 ? 1 : bytes))
    fatal("allocating " + std::to_string(bytes) + " bytes of device memory", result);
  return pointer;
}

void Device::free(cuda::DevicePtr pointer) {
  if (pointer)
    cudaDriver->memFree(pointer);
}

void Device::upload(cuda::DevicePtr to, const void *from, size_t bytes) {
  if (cuda::Result result = cudaDriver->memcpyHtoD(to, from, bytes))
    fatal("copying " + std::to_string(bytes) + " bytes to the device", result);
}

void Device::download(void *to, cuda::DevicePtr from, size_t bytes) {
  // On the legacy default stream: waits for every kernel queued before it.
  if (cuda::Result result = cudaDriver->memcpyDtoH(to, from, bytes))
    fatal("copying " + std::to_string(bytes) + " bytes from the device (or a kernel before it)",
          result);
}

DeviceBuffers::~DeviceBuffers() {
  for (Buffer &buffer : buffers)
    device.free(buffer.pointer);
}

void *DeviceBuffers::scratch(Slot slot, size_t bytes) {
  Buffer &buffer = buffers[slot];
  if (buffer.capacity < bytes) {
    device.free(buffer.pointer);
    buffer.pointer = device.allocate(bytes);
    buffer.capacity = bytes;
  }
  return reinterpret_cast<void *>(uintptr_t(buffer.pointer));
}

void *DeviceBuffers::resident(Slot slot, const void *host, size_t bytes) {
  Buffer &buffer = buffers[slot];
  void *pointer = scratch(slot, bytes);
  if (buffer.host != host) { // another host buffer: its contents are new here
    buffer.host = host;
    buffer.hostNewer = true;
    buffer.deviceNewer = false;
  }
  if (buffer.hostNewer) {
    device.upload(buffer.pointer, host, bytes);
    buffer.hostNewer = false;
  }
  return pointer;
}

void DeviceBuffers::syncToHost(const void *host) {
  for (Buffer &buffer : buffers)
    if (buffer.host == host && host && buffer.deviceNewer) {
      device.download(const_cast<void *>(host), buffer.pointer, buffer.capacity);
      buffer.deviceNewer = false;
    }
}

void DeviceBuffers::hostWrote(const void *host) {
  for (Buffer &buffer : buffers)
    if (buffer.host == host && host) {
      buffer.hostNewer = true;
      buffer.deviceNewer = false;
    }
}

void *DeviceBuffers::input(Slot slot, const void *host, size_t bytes) {
  void *pointer = scratch(slot, bytes);
  device.upload(buffers[slot].pointer, host, bytes);
  return pointer;
}

void DeviceBuffers::fetch(void *host, Slot slot, size_t bytes) {
  device.download(host, buffers[slot].pointer, bytes);
}

//===----------------------------------------------------------------------===//
// The launcher functions of MLIR's GPU lowering (gpu-to-llvm), with the
// signatures of its CUDA runtime wrappers.
//===----------------------------------------------------------------------===//

extern "C" {

/// PTX text (NUL-terminated; the driver compiles it for the GPU at hand).
__attribute__((visibility("default"))) cuda::Module mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  LaunchCache &cache = launchCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto [entry, inserted] = cache.modules.try_emplace(data, nullptr);
  if (inserted) {
    Device &device = launchDevice();
    if (cuda::Result result = device.driver().moduleLoadData(&entry->second, data)) {
      cache.modules.erase(entry);
      device.fatal("compiling the library's PTX (a driver older than the PTX ISA the library "
                   "needs, or a GPU older than its --gpu-arch)",
                   result);
    }
  }
  return entry->second;
}

/// A cubin (gpu-module-to-binary format=bin): loaded the same way.
__attribute__((visibility("default"))) cuda::Module mgpuModuleLoad(void *data, size_t /*size*/) {
  return mgpuModuleLoadJIT(data, 0);
}

/// Modules stay loaded for the life of the process (see LaunchCache).
__attribute__((visibility("default"))) void mgpuModuleUnload(cuda::Module) {}

__attribute__((visibility("default"))) cuda::Function mgpuModuleGetFunction(cuda::Module module,
                                                                            const char *name) {
  LaunchCache &cache = launchCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto [entry, inserted] = cache.functions.try_emplace({module, name}, nullptr);
  if (inserted) {
    Device &device = launchDevice();
    if (cuda::Result result = device.driver().moduleGetFunction(&entry->second, module, name))
      device.fatal(std::string("finding kernel ") + name, result);
    cache.names[entry->second] = name;
  }
  return entry->second;
}

__attribute__((visibility("default"))) void
mgpuLaunchKernel(cuda::Function function, intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                 intptr_t blockX, intptr_t blockY, intptr_t blockZ, int32_t sharedBytes,
                 cuda::Stream stream, void **params, void **extra, size_t /*paramsCount*/) {
  Device &device = launchDevice();
  if (cuda::Result result = device.driver().launchKernel(
          function, unsigned(gridX), unsigned(gridY), unsigned(gridZ), unsigned(blockX),
          unsigned(blockY), unsigned(blockZ), unsigned(sharedBytes), stream, params, extra)) {
    LaunchCache &cache = launchCache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    device.fatal("launching kernel " + cache.names[function], result);
  }
}

/// Every launch goes to the legacy default stream (null): in issue order,
/// and a synchronous copy back waits for them. Creating, synchronizing and
/// destroying a stream around each launch, as the generated code asks,
/// would cost more than most of its kernels.
__attribute__((visibility("default"))) cuda::Stream mgpuStreamCreate() { return nullptr; }
__attribute__((visibility("default"))) void mgpuStreamDestroy(cuda::Stream) {}
__attribute__((visibility("default"))) void mgpuStreamSynchronize(cuda::Stream) {}

} // extern "C"
