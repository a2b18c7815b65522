/* A stand-in for libcuda.so.1 with the entry points libvaert resolves, for
 * testing the driver loader where no GPU is: FAKE_DEVICES devices, cuInit
 * returning FAKE_INIT_RESULT, device memory from malloc. */
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_DEVICES
#define FAKE_DEVICES 1
#endif
#ifndef FAKE_INIT_RESULT
#define FAKE_INIT_RESULT 0
#endif

typedef int CUresult;
static int context;

CUresult cuInit(unsigned flags) { (void)flags; return FAKE_INIT_RESULT; }
CUresult cuDeviceGetCount(int *count) { *count = FAKE_DEVICES; return 0; }
CUresult cuDeviceGet(int *device, int ordinal) { *device = ordinal; return ordinal < FAKE_DEVICES ? 0 : 101; }
CUresult cuDeviceGetName(char *name, int length, int device) {
  (void)device;
  strncpy(name, "Fake GPU", (size_t)length);
  return 0;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  (void)device;
  *value = attribute == 75 ? 9 : attribute == 76 ? 0 : -1;
  return 0;
}
CUresult cuDevicePrimaryCtxRetain(void **ctx, int device) { (void)device; *ctx = &context; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int device) { (void)device; return 0; }
CUresult cuCtxSetCurrent(void *ctx) { return ctx == &context ? 0 : 201; }
CUresult cuGetErrorName(CUresult result, const char **name) {
  *name = result == 100 ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
CUresult cuGetErrorString(CUresult result, const char **text) {
  *text = result == 100 ? "no CUDA-capable device is detected" : "unknown error";
  return 0;
}
CUresult cuModuleLoadData(void **module, const void *image) { *module = (void *)image; return 0; }
CUresult cuModuleUnload(void *module) { (void)module; return 0; }
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  (void)module; *function = (void *)name; return 0;
}
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned shared, void *stream, void **params, void **extra) {
  (void)f; (void)gx; (void)gy; (void)gz; (void)bx; (void)by; (void)bz; (void)shared;
  (void)stream; (void)params; (void)extra;
  return 0;
}
CUresult cuMemAlloc_v2(unsigned long long *ptr, size_t bytes) {
  *ptr = (unsigned long long)(size_t)malloc(bytes);
  return *ptr ? 0 : 2;
}
CUresult cuMemFree_v2(unsigned long long ptr) { free((void *)(size_t)ptr); return 0; }
CUresult cuMemcpyHtoD_v2(unsigned long long dst, const void *src, size_t bytes) {
  memcpy((void *)(size_t)dst, src, bytes); return 0;
}
CUresult cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t bytes) {
  memcpy(dst, (const void *)(size_t)src, bytes); return 0;
}
CUresult cuStreamCreate(void **stream, unsigned flags) { (void)flags; *stream = &context; return 0; }
CUresult cuStreamDestroy_v2(void *stream) { (void)stream; return 0; }
CUresult cuStreamSynchronize(void *stream) { (void)stream; return 0; }
