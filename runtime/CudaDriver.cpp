//===- CudaDriver.cpp - the CUDA driver API, opened at run time -----------===//

#include "runtime/CudaDriver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <type_traits>

using namespace vae::cuda;

namespace {

/// CUdevice_attribute values of the compute capability.
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76;

} // namespace

std::string vae::cuda::driverLibrary() {
  const char *path = std::getenv("VAE_CUDA_DRIVER");
  return path && *path ? path : "libcuda.so.1";
}

std::unique_ptr<Driver> Driver::open(std::string &error) {
  std::string path = driverLibrary();
  void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    error = "the CUDA driver '" + path + "' cannot be opened (" + (why ? why : "not found") +
            "): install the NVIDIA driver, or set VAE_CUDA_DRIVER to its libcuda.so.1";
    return nullptr;
  }
  std::unique_ptr<Driver> driver(new Driver());
  driver->library = library;
  std::string missing;
  auto resolve = [&](auto &function, const char *symbol) {
    function =
        reinterpret_cast<std::remove_reference_t<decltype(function)>>(dlsym(library, symbol));
    if (!function)
      missing += (missing.empty() ? "" : ", ") + std::string(symbol);
  };
  Result (*init)(unsigned) = nullptr;
  Result (*deviceGetCount)(int *) = nullptr;
  Result (*deviceGet)(Device *, int) = nullptr;
  Result (*deviceGetName)(char *, int, Device) = nullptr;
  Result (*deviceGetAttribute)(int *, int, Device) = nullptr;
  Result (*primaryCtxRetain)(Context *, Device) = nullptr;
  Result (*ctxSetCurrent)(Context) = nullptr;
  resolve(init, "cuInit");
  resolve(deviceGetCount, "cuDeviceGetCount");
  resolve(deviceGet, "cuDeviceGet");
  resolve(deviceGetName, "cuDeviceGetName");
  resolve(deviceGetAttribute, "cuDeviceGetAttribute");
  resolve(primaryCtxRetain, "cuDevicePrimaryCtxRetain");
  resolve(driver->primaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
  resolve(ctxSetCurrent, "cuCtxSetCurrent");
  resolve(driver->getErrorName, "cuGetErrorName");
  resolve(driver->getErrorString, "cuGetErrorString");
  resolve(driver->moduleLoadData, "cuModuleLoadData");
  resolve(driver->moduleUnload, "cuModuleUnload");
  resolve(driver->moduleGetFunction, "cuModuleGetFunction");
  resolve(driver->launchKernel, "cuLaunchKernel");
  resolve(driver->memAlloc, "cuMemAlloc_v2");
  resolve(driver->memFree, "cuMemFree_v2");
  resolve(driver->memcpyHtoD, "cuMemcpyHtoD_v2");
  resolve(driver->memcpyDtoH, "cuMemcpyDtoH_v2");
  resolve(driver->streamCreate, "cuStreamCreate");
  resolve(driver->streamDestroy, "cuStreamDestroy_v2");
  resolve(driver->streamSynchronize, "cuStreamSynchronize");
  resolve(driver->streamWaitEvent, "cuStreamWaitEvent");
  resolve(driver->memcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  resolve(driver->memcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
  resolve(driver->memAllocHost, "cuMemAllocHost_v2");
  resolve(driver->memFreeHost, "cuMemFreeHost");
  resolve(driver->eventCreate, "cuEventCreate");
  resolve(driver->eventDestroy, "cuEventDestroy_v2");
  resolve(driver->eventRecord, "cuEventRecord");
  resolve(driver->eventSynchronize, "cuEventSynchronize");
  if (missing.empty()) {
    // Optional: without all of them, no graphs (CUDA 11 drivers).
    std::string required;
    std::swap(required, missing);
    resolve(driver->streamBeginCapture, "cuStreamBeginCapture_v2");
    resolve(driver->streamEndCapture, "cuStreamEndCapture");
    resolve(driver->graphInstantiate, "cuGraphInstantiateWithFlags");
    resolve(driver->graphLaunch, "cuGraphLaunch");
    resolve(driver->graphDestroy, "cuGraphDestroy");
    resolve(driver->graphExecDestroy, "cuGraphExecDestroy");
    resolve(driver->graphExecUpdate, "cuGraphExecUpdate_v2");
    if (!missing.empty())
      driver->graphExecUpdate = nullptr;
    missing = required;
  }
  if (!missing.empty()) {
    error = "'" + path + "' lacks " + missing +
            " of the CUDA driver API: a driver older than CUDA 11, or not a CUDA driver";
    return nullptr;
  }
  auto failed = [&](Result result, const char *what) {
    if (result == 0)
      return false;
    error = std::string(what) + " failed: " + driver->describe(result);
    return true;
  };
  int count = 0;
  if (failed(init(0), "cuInit") || failed(deviceGetCount(&count), "cuDeviceGetCount"))
    return nullptr;
  if (count == 0) {
    error = "the CUDA driver ('" + path + "') finds no GPU on this machine";
    return nullptr;
  }
  char name[256] = {};
  if (failed(deviceGet(&driver->device, 0), "cuDeviceGet") ||
      failed(deviceGetName(name, sizeof(name) - 1, driver->device), "cuDeviceGetName") ||
      failed(deviceGetAttribute(&driver->major, kComputeCapabilityMajor, driver->device),
             "cuDeviceGetAttribute") ||
      failed(deviceGetAttribute(&driver->minor, kComputeCapabilityMinor, driver->device),
             "cuDeviceGetAttribute") ||
      failed(primaryCtxRetain(&driver->context, driver->device), "cuDevicePrimaryCtxRetain"))
    return nullptr;
  driver->name = name;
  if (failed(ctxSetCurrent(driver->context), "cuCtxSetCurrent"))
    return nullptr;
  return driver;
}

Driver::~Driver() {
  if (context && primaryCtxRelease)
    primaryCtxRelease(device);
  if (library)
    dlclose(library);
}

std::string Driver::deviceDescription() const {
  return name + ", compute capability " + std::to_string(major) + "." + std::to_string(minor);
}

std::string Driver::describe(Result result) const {
  const char *errorName = nullptr, *text = nullptr;
  if (getErrorName)
    getErrorName(result, &errorName);
  if (getErrorString)
    getErrorString(result, &text);
  std::string out = errorName ? errorName : "CUresult " + std::to_string(result);
  if (text)
    out += std::string(": ") + text;
  return out;
}
