/* A stand-in for libcuda.so.1 with the entry points libvaert resolves, for
 * testing the driver loader and the launcher where no GPU is: FAKE_DEVICES
 * devices of compute capability FAKE_COMPUTE_MAJOR.0, cuInit returning
 * FAKE_INIT_RESULT, device memory from malloc,
 * kernels that do nothing. It checks what a driver would: a module is PTX
 * text, a function is an .entry of it, a launch has threads and at most
 * 1024 per block. With $VAE_FAKE_CUDA_REPORT it writes at exit how many
 * modules were loaded, allocations are still live, and launches each entry
 * point made (kernels vae_train_step_kernel_N count for vae_train_step). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_DEVICES
#define FAKE_DEVICES 1
#endif
#ifndef FAKE_INIT_RESULT
#define FAKE_INIT_RESULT 0
#endif
#ifndef FAKE_COMPUTE_MAJOR
#define FAKE_COMPUTE_MAJOR 9
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
  *value = attribute == 75 ? FAKE_COMPUTE_MAJOR : attribute == 76 ? 0 : -1;
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
static long modulesLoaded, liveAllocations;
/* Launches per entry point: the kernel name up to "_kernel". */
#define MAX_ENTRY_POINTS 16
static struct { char name[64]; long launches; } entryPoints[MAX_ENTRY_POINTS];

static void countLaunch(const char *kernel) {
  size_t length = strcspn(kernel, "(");
  const char *suffix = strstr(kernel, "_kernel");
  if (suffix && (size_t)(suffix - kernel) < length)
    length = (size_t)(suffix - kernel);
  if (length >= sizeof(entryPoints[0].name))
    length = sizeof(entryPoints[0].name) - 1;
  for (int i = 0; i < MAX_ENTRY_POINTS; ++i) {
    if (entryPoints[i].name[0] == 0) {
      memcpy(entryPoints[i].name, kernel, length);
      entryPoints[i].name[length] = 0;
    }
    if (strlen(entryPoints[i].name) == length && strncmp(entryPoints[i].name, kernel, length) == 0) {
      ++entryPoints[i].launches;
      return;
    }
  }
}

__attribute__((destructor)) static void report(void) {
  const char *path = getenv("VAE_FAKE_CUDA_REPORT");
  FILE *out = path ? fopen(path, "w") : NULL;
  if (!out)
    return;
  fprintf(out, "modules %ld\nlive_allocations %ld\n", modulesLoaded, liveAllocations);
  for (int i = 0; i < MAX_ENTRY_POINTS && entryPoints[i].name[0]; ++i)
    fprintf(out, "launches %s %ld\n", entryPoints[i].name, entryPoints[i].launches);
  fclose(out);
}

CUresult cuModuleLoadData(void **module, const void *image) {
  if (!strstr((const char *)image, ".version") || !strstr((const char *)image, ".target"))
    return 218; /* CUDA_ERROR_INVALID_PTX */
  ++modulesLoaded;
  *module = (void *)image;
  return 0;
}
CUresult cuModuleUnload(void *module) { (void)module; --modulesLoaded; return 0; }
/* The function handle is the ".entry NAME(" line of the module's text. */
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  char entry[256];
  snprintf(entry, sizeof(entry), ".entry %s(", name);
  const char *found = strstr((const char *)module, entry);
  if (!found)
    return 500; /* CUDA_ERROR_NOT_FOUND */
  *function = (void *)(found + strlen(".entry "));
  return 0;
}
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned shared, void *stream, void **params, void **extra) {
  (void)shared; (void)stream; (void)extra;
  if (!f || !params || gx * gy * gz == 0 || bx * by * bz == 0 || bx * by * bz > 1024)
    return 1; /* CUDA_ERROR_INVALID_VALUE */
  countLaunch((const char *)f);
  return 0;
}
CUresult cuMemAlloc_v2(unsigned long long *ptr, size_t bytes) {
  *ptr = (unsigned long long)(size_t)calloc(1, bytes);
  liveAllocations += *ptr != 0;
  return *ptr ? 0 : 2;
}
CUresult cuMemFree_v2(unsigned long long ptr) { liveAllocations -= ptr != 0; free((void *)(size_t)ptr); return 0; }
CUresult cuMemcpyHtoD_v2(unsigned long long dst, const void *src, size_t bytes) {
  memcpy((void *)(size_t)dst, src, bytes); return 0;
}
CUresult cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t bytes) {
  memcpy(dst, (const void *)(size_t)src, bytes); return 0;
}
CUresult cuStreamCreate(void **stream, unsigned flags) { (void)flags; *stream = &context; return 0; }
CUresult cuStreamDestroy_v2(void *stream) { (void)stream; return 0; }
CUresult cuStreamSynchronize(void *stream) { (void)stream; return 0; }
