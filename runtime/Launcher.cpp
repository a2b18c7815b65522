//===- Launcher.cpp - where a GPU library's kernels run -------------------===//

#include "runtime/Launcher.h"

#include "vae/abi.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
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
    fmt::print(stderr, "error: a GPU library launched a kernel before libvaert opened the "
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
    if (driver) {
      openedDevice = new Device(std::move(driver)); // lives until exit
      cuda::Driver &d = openedDevice->driver();
      openedDevice->check(d.streamCreate(&openedDevice->computeStream, cuda::kStreamNonBlocking),
                          "creating a stream");
      openedDevice->check(d.streamCreate(&openedDevice->uploadStream, cuda::kStreamNonBlocking),
                          "creating a stream");
    }
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
  fmt::print(stderr, "error: GPU ({}): {} failed: {}\n", cudaDriver->deviceDescription(), what,
             cudaDriver->describe(result));
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
  check(cudaDriver->memcpyHtoDAsync(to, from, bytes, computeStream),
        "copying " + std::to_string(bytes) + " bytes to the device");
}

void Device::download(void *to, cuda::DevicePtr from, size_t bytes) {
  check(cudaDriver->memcpyDtoHAsync(to, from, bytes, computeStream),
        "copying " + std::to_string(bytes) + " bytes from the device");
  synchronize("copying from the device (or a kernel before it)");
}

void Device::synchronize(const char *what) {
  check(cudaDriver->streamSynchronize(computeStream), what);
}

void *Device::allocateHost(size_t bytes) {
  void *pointer = nullptr;
  check(cudaDriver->memAllocHost(&pointer, bytes == 0 ? 1 : bytes),
        "allocating " + std::to_string(bytes) + " bytes of page-locked host memory");
  return pointer;
}

void Device::freeHost(void *pointer) {
  if (pointer)
    cudaDriver->memFreeHost(pointer);
}

cuda::Event Device::newEvent() {
  cuda::Event event = nullptr;
  check(cudaDriver->eventCreate(&event, cuda::kEventDisableTiming), "creating an event");
  return event;
}

DeviceBuffers::~DeviceBuffers() {
  // Nothing may still read what is freed.
  device.synchronize("finishing the model's work on the GPU");
  device.check(device.driver().streamSynchronize(device.copyStream()),
               "finishing the model's uploads");
  for (Buffer &buffer : buffers)
    device.free(buffer.pointer);
  cuda::Driver &driver = device.driver();
  for (StagingSlot &slot : staging) {
    device.free(slot.device);
    device.freeHost(slot.host);
    if (slot.uploaded)
      driver.eventDestroy(slot.uploaded);
    if (slot.consumed)
      driver.eventDestroy(slot.consumed);
  }
  device.freeHost(termsHost);
  if (stepDone)
    driver.eventDestroy(stepDone);
  if (stepGraph)
    driver.graphExecDestroy(stepGraph);
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

namespace {
size_t alignUp(size_t bytes) { return (bytes + 255) / 256 * 256; }
} // namespace

void DeviceBuffers::stageStep(const float *x, size_t xBytes, const float *eps, size_t epsBytes,
                              const float *weights, size_t weightsBytes) {
  cuda::Driver &driver = device.driver();
  // The slot the last step taken does not read; staging again before a
  // step takes it overwrites it.
  stagedSlot = 1 - lastTaken;
  StagingSlot &slot = staging[stagedSlot];
  size_t offsets[3] = {0, alignUp(xBytes), alignUp(xBytes) + alignUp(epsBytes)};
  size_t bytes = offsets[2] + weightsBytes;
  if (slot.capacity < bytes) {
    if (slot.inUse)
      device.check(driver.eventSynchronize(slot.consumed), "a step on the GPU");
    device.free(slot.device);
    device.freeHost(slot.host);
    slot.device = device.allocate(bytes);
    slot.host = device.allocateHost(bytes);
    slot.capacity = bytes;
    if (!slot.uploaded) {
      slot.uploaded = device.newEvent();
      slot.consumed = device.newEvent();
    }
  }
  // The step that read this slot's device copy, and the upload that read
  // its host copy, are done before either is written again.
  if (slot.inUse)
    device.check(driver.eventSynchronize(slot.consumed), "a step on the GPU");
  device.check(driver.eventSynchronize(slot.uploaded), "uploading a batch");
  auto *host = static_cast<char *>(slot.host);
  std::memcpy(host + offsets[0], x, xBytes);
  std::memcpy(host + offsets[1], eps, epsBytes);
  std::memcpy(host + offsets[2], weights, weightsBytes);
  device.check(driver.memcpyHtoDAsync(slot.device, slot.host, bytes, device.copyStream()),
               "uploading a batch");
  device.check(driver.eventRecord(slot.uploaded, device.copyStream()), "uploading a batch");
  std::copy(offsets, offsets + 3, stagedOffsets);
  staged = true;
}

DeviceBuffers::StepInputs DeviceBuffers::takeStaged() {
  StagingSlot &slot = staging[stagedSlot];
  cuda::Driver &driver = device.driver();
  device.check(driver.streamWaitEvent(device.stream(), slot.uploaded, 0), "ordering a step");
  staged = false;
  lastTaken = stagedSlot;
  auto at = [&](size_t offset) {
    return reinterpret_cast<float *>(uintptr_t(slot.device + offset));
  };
  return {at(stagedOffsets[0]), at(stagedOffsets[1]), at(stagedOffsets[2])};
}

void DeviceBuffers::launchStep(const std::function<void()> &launches) {
  cuda::Driver &driver = device.driver();
  static const bool graphsWanted = [] {
    const char *setting = std::getenv("VAE_CUDA_GRAPHS");
    return !setting || std::string(setting) != "0";
  }();
  if (!graphsWanted || !driver.hasGraphs() || stepsLaunched++ == 0) {
    launches();
  } else {
    cuda::Graph graph = nullptr;
    device.check(driver.streamBeginCapture(device.stream(), cuda::kCaptureModeRelaxed),
                 "capturing a step into a CUDA graph");
    launches();
    device.check(driver.streamEndCapture(device.stream(), &graph),
                 "capturing a step into a CUDA graph");
    // The same kernels each step, with other arguments (the step number,
    // the staging slot): an update, not a new instantiation, unless the
    // driver refuses it.
    cuda::GraphExecUpdateResultInfo info{};
    if (stepGraph && driver.graphExecUpdate(stepGraph, graph, &info) != 0) {
      driver.graphExecDestroy(stepGraph);
      stepGraph = nullptr;
    }
    if (!stepGraph)
      device.check(driver.graphInstantiate(&stepGraph, graph, 0),
                   "instantiating a step's CUDA graph");
    driver.graphDestroy(graph);
    device.check(driver.graphLaunch(stepGraph, device.stream()), "launching a step's CUDA graph");
  }
  StagingSlot &slot = staging[lastTaken];
  device.check(driver.eventRecord(slot.consumed, device.stream()), "ordering a step");
  slot.inUse = true;
}

const float *DeviceBuffers::fetchTermsAsync(size_t bytes) {
  cuda::Driver &driver = device.driver();
  if (!termsHost) {
    termsHost = static_cast<float *>(device.allocateHost(3 * VAE_ALIGNMENT));
    stepDone = device.newEvent();
  }
  device.check(driver.memcpyDtoHAsync(termsHost, buffers[Out0].pointer, bytes, device.stream()),
               "copying a step's loss from the device");
  device.check(driver.eventRecord(stepDone, device.stream()), "ordering a step");
  return termsHost;
}

void DeviceBuffers::waitStep() {
  device.check(device.driver().eventSynchronize(stepDone),
               "a training step on the GPU (one of its kernels, or its copies)");
}

//===----------------------------------------------------------------------===//
// The launcher functions of MLIR's GPU lowering (gpu-to-llvm), with the
// signatures of its CUDA runtime wrappers.
//===----------------------------------------------------------------------===//

extern "C" {

/// PTX text (NUL-terminated; the driver compiles it for the GPU at hand).
__attribute__((visibility("default"))) cuda::Module mgpuModuleLoadJIT(void *data,
                                                                      int /*optLevel*/) {
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

/// Every launch goes to the device's stream, in issue order; copies back
/// wait for it. Creating, synchronizing and destroying a stream around each
/// launch, as the generated code asks, would cost more than most of its
/// kernels, and a synchronization would end a graph capture.
__attribute__((visibility("default"))) cuda::Stream mgpuStreamCreate() {
  return launchDevice().stream();
}
__attribute__((visibility("default"))) void mgpuStreamDestroy(cuda::Stream) {}
__attribute__((visibility("default"))) void mgpuStreamSynchronize(cuda::Stream) {}

} // extern "C"
