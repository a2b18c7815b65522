//===- CudaDriverTest.cpp - the CUDA driver, opened at run time -----------===//
//
// No GPU here: a fake libcuda.so.1 (FakeCudaDriver.c) stands in for the
// driver, named through $VAE_CUDA_DRIVER as a user would name a driver in
// another place.

#include "runtime/CudaDriver.h"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

using vae::cuda::Driver;

namespace {

/// Opens the driver at `path` (VAE_CUDA_DRIVER) and restores the variable.
std::unique_ptr<Driver> openAt(const char *path, std::string &error) {
  const char *before = std::getenv("VAE_CUDA_DRIVER");
  std::string saved = before ? before : "";
  setenv("VAE_CUDA_DRIVER", path, 1);
  auto driver = Driver::open(error);
  if (before)
    setenv("VAE_CUDA_DRIVER", saved.c_str(), 1);
  else
    unsetenv("VAE_CUDA_DRIVER");
  return driver;
}

} // namespace

TEST_CASE("no driver library: a clear error that says what to install", "[cuda]") {
  std::string error;
  CHECK_FALSE(openAt("/nonexistent/libcuda.so.1", error));
  CHECK(error.find("'/nonexistent/libcuda.so.1' cannot be opened") != std::string::npos);
  CHECK(error.find("install the NVIDIA driver") != std::string::npos);
}

TEST_CASE("a library that is not a CUDA driver names the entry points it lacks", "[cuda]") {
  std::string error;
  CHECK_FALSE(openAt(VAE_TEST_NOT_A_MODEL, error));
  CHECK(error.find("lacks cuInit, cuDeviceGetCount") != std::string::npos);
}

TEST_CASE("a driver without a GPU, or whose cuInit fails, says so", "[cuda]") {
  std::string error;
  CHECK_FALSE(openAt(VAE_TEST_FAKE_CUDA_NO_DEVICE, error));
  CHECK(error.find("finds no GPU on this machine") != std::string::npos);
  CHECK_FALSE(openAt(VAE_TEST_FAKE_CUDA_INIT_FAILS, error));
  CHECK(error == "cuInit failed: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected");
}

TEST_CASE("a driver with a GPU: its device, memory and copies", "[cuda]") {
  std::string error;
  auto driver = openAt(VAE_TEST_FAKE_CUDA, error);
  REQUIRE(driver);
  CHECK(driver->deviceDescription() == "Fake GPU, compute capability 9.0");
  CHECK(driver->computeCapability() == 90);
  std::vector<float> in = {1, 2, 3, 4}, out(4);
  vae::cuda::DevicePtr buffer = 0;
  REQUIRE(driver->memAlloc(&buffer, 16) == 0);
  CHECK(driver->memcpyHtoD(buffer, in.data(), 16) == 0);
  CHECK(driver->memcpyDtoH(out.data(), buffer, 16) == 0);
  CHECK(out == in);
  CHECK(driver->memFree(buffer) == 0);
}

TEST_CASE("this machine's driver opens, or says why not", "[cuda]") {
  std::string error;
  unsetenv("VAE_CUDA_DRIVER");
  auto driver = Driver::open(error);
  if (void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(library);
    INFO(error);
    CHECK((driver || error.find("no GPU") != std::string::npos ||
           error.find("failed") != std::string::npos));
  } else {
    CHECK_FALSE(driver);
    CHECK(error.find("'libcuda.so.1' cannot be opened") != std::string::npos);
  }
}
