/* A stand-in for libcuda.so.1 with the entry points libvaert resolves, for
 * testing the driver loader and the launcher where no GPU is: FAKE_DEVICES
 * devices of compute capability FAKE_COMPUTE_MAJOR.0, cuInit returning
 * FAKE_INIT_RESULT, device memory from malloc,
 * kernels that do nothing, streams that run everything at once. It checks
 * what a driver would: a module is PTX text, a function is an .entry of it,
 * a launch has threads and at most 1024 per block, a stream being captured
 * into a graph takes no synchronization, a graph update keeps the kernels.
 * A launch on a capturing stream becomes a node of its graph; launching
 * the graph runs (counts) its nodes. With $VAE_FAKE_CUDA_REPORT it writes
 * at exit how many modules were loaded, allocations (device, page-locked
 * host, graphs) are still live, graphs were instantiated and launched, and
 * kernels each entry point ran (vae_train_step_kernel_N count for
 * vae_train_step). */
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

CUresult cuInit(unsigned flags) {
  (void)flags;
  return FAKE_INIT_RESULT;
}
CUresult cuDeviceGetCount(int *count) {
  *count = FAKE_DEVICES;
  return 0;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return ordinal < FAKE_DEVICES ? 0 : 101;
}
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
CUresult cuDevicePrimaryCtxRetain(void **ctx, int device) {
  (void)device;
  *ctx = &context;
  return 0;
}
CUresult cuDevicePrimaryCtxRelease_v2(int device) {
  (void)device;
  return 0;
}
CUresult cuCtxSetCurrent(void *ctx) { return ctx == &context ? 0 : 201; }
CUresult cuGetErrorName(CUresult result, const char **name) {
  *name = result == 100 ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
CUresult cuGetErrorString(CUresult result, const char **text) {
  *text = result == 100 ? "no CUDA-capable device is detected" : "unknown error";
  return 0;
}
static long modulesLoaded, liveAllocations, liveHostAllocations, liveGraphs;
static long graphsInstantiated, graphsLaunched, graphUpdates;
/* Launches per entry point: the kernel name up to "_kernel". */
#define MAX_ENTRY_POINTS 16
static struct {
  char name[64];
  long launches;
} entryPoints[MAX_ENTRY_POINTS];

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
    if (strlen(entryPoints[i].name) == length &&
        strncmp(entryPoints[i].name, kernel, length) == 0) {
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
  fprintf(out, "modules %ld\nlive_allocations %ld\nlive_host_allocations %ld\nlive_graphs %ld\n",
          modulesLoaded, liveAllocations, liveHostAllocations, liveGraphs);
  fprintf(out, "graphs_instantiated %ld\ngraphs_launched %ld\ngraph_updates %ld\n",
          graphsInstantiated, graphsLaunched, graphUpdates);
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
CUresult cuModuleUnload(void *module) {
  (void)module;
  --modulesLoaded;
  return 0;
}
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
/* Streams; the one being captured and the graph it builds. */
#define MAX_STREAMS 8
#define MAX_NODES 1024
static int streams[MAX_STREAMS], streamsCreated;
typedef struct {
  int count;
  const char *kernels[MAX_NODES];
} Graph;
static void *capturing;
static Graph *captured;

static int isStream(void *stream) {
  return stream >= (void *)streams && stream < (void *)(streams + streamsCreated);
}

CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned shared, void *stream, void **params, void **extra) {
  (void)shared;
  (void)extra;
  if (!f || !params || gx * gy * gz == 0 || bx * by * bz == 0 || bx * by * bz > 1024 ||
      (stream && !isStream(stream)))
    return 1; /* CUDA_ERROR_INVALID_VALUE */
  if (stream && stream == capturing) {
    if (captured->count == MAX_NODES)
      return 2;
    captured->kernels[captured->count++] = (const char *)f;
    return 0;
  }
  countLaunch((const char *)f);
  return 0;
}
CUresult cuMemAlloc_v2(unsigned long long *ptr, size_t bytes) {
  *ptr = (unsigned long long)(size_t)calloc(1, bytes);
  liveAllocations += *ptr != 0;
  return *ptr ? 0 : 2;
}
CUresult cuMemFree_v2(unsigned long long ptr) {
  liveAllocations -= ptr != 0;
  free((void *)(size_t)ptr);
  return 0;
}
/* CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED: what a synchronizing call during
 * a capture gets (and the capture is invalidated). */
#define CAPTURE_UNSUPPORTED 900
CUresult cuMemcpyHtoD_v2(unsigned long long dst, const void *src, size_t bytes) {
  if (capturing)
    return CAPTURE_UNSUPPORTED;
  memcpy((void *)(size_t)dst, src, bytes);
  return 0;
}
CUresult cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t bytes) {
  if (capturing)
    return CAPTURE_UNSUPPORTED;
  memcpy(dst, (const void *)(size_t)src, bytes);
  return 0;
}
CUresult cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t bytes, void *stream) {
  if (stream && !isStream(stream))
    return 1;
  if (stream && stream == capturing)
    return CAPTURE_UNSUPPORTED; /* (real drivers capture it; vae-train does not ask that) */
  memcpy((void *)(size_t)dst, src, bytes);
  return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t bytes, void *stream) {
  if (stream && !isStream(stream))
    return 1;
  if (stream && stream == capturing)
    return CAPTURE_UNSUPPORTED;
  memcpy(dst, (const void *)(size_t)src, bytes);
  return 0;
}
CUresult cuMemAllocHost_v2(void **ptr, size_t bytes) {
  *ptr = calloc(1, bytes);
  liveHostAllocations += *ptr != 0;
  return *ptr ? 0 : 2;
}
CUresult cuMemFreeHost(void *ptr) {
  liveHostAllocations -= ptr != 0;
  free(ptr);
  return 0;
}
CUresult cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  if (streamsCreated == MAX_STREAMS)
    return 2;
  *stream = &streams[streamsCreated++];
  return 0;
}
CUresult cuStreamDestroy_v2(void *stream) { return isStream(stream) ? 0 : 1; }
CUresult cuStreamSynchronize(void *stream) {
  if (stream && !isStream(stream))
    return 1;
  return capturing ? CAPTURE_UNSUPPORTED : 0;
}
static int events[64], eventsCreated;
CUresult cuEventCreate(void **event, unsigned flags) {
  (void)flags;
  if (eventsCreated == 64)
    return 2;
  *event = &events[eventsCreated++];
  return 0;
}
CUresult cuEventDestroy_v2(void *event) {
  (void)event;
  return 0;
}
CUresult cuEventRecord(void *event, void *stream) {
  (void)event;
  if (stream && !isStream(stream))
    return 1;
  return stream && stream == capturing ? CAPTURE_UNSUPPORTED : 0;
}
CUresult cuEventSynchronize(void *event) {
  (void)event;
  return capturing ? CAPTURE_UNSUPPORTED : 0;
}
CUresult cuStreamWaitEvent(void *stream, void *event, unsigned flags) {
  (void)event;
  (void)flags;
  return stream && isStream(stream) ? 0 : 1;
}

CUresult cuStreamBeginCapture_v2(void *stream, int mode) {
  (void)mode;
  if (!stream || !isStream(stream) || capturing)
    return 1; /* the legacy stream cannot be captured */
  capturing = stream;
  captured = calloc(1, sizeof(Graph));
  ++liveGraphs;
  return 0;
}
CUresult cuStreamEndCapture(void *stream, void **graph) {
  if (stream != capturing)
    return 1;
  *graph = captured;
  capturing = NULL;
  captured = NULL;
  return 0;
}
CUresult cuGraphInstantiateWithFlags(void **exec, void *graph, unsigned long long flags) {
  (void)flags;
  Graph *copy = malloc(sizeof(Graph));
  memcpy(copy, graph, sizeof(Graph));
  ++liveGraphs;
  ++graphsInstantiated;
  *exec = copy;
  return 0;
}
#ifndef FAKE_NO_GRAPH_UPDATE /* a CUDA 11 driver: no cuGraphExecUpdate_v2 */
/* An update keeps the kernels in their order (only their arguments change). */
CUresult cuGraphExecUpdate_v2(void *exec, void *graph, void *info) {
  (void)info;
  Graph *to = exec, *from = graph;
  if (to->count != from->count)
    return 910; /* CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE */
  for (int i = 0; i < to->count; ++i)
    if (to->kernels[i] != from->kernels[i])
      return 910;
  ++graphUpdates;
  return 0;
}
#endif
CUresult cuGraphLaunch(void *exec, void *stream) {
  Graph *graph = exec;
  if (!stream || !isStream(stream) || stream == capturing)
    return 1;
  for (int i = 0; i < graph->count; ++i)
    countLaunch(graph->kernels[i]);
  ++graphsLaunched;
  return 0;
}
CUresult cuGraphDestroy(void *graph) {
  --liveGraphs;
  free(graph);
  return 0;
}
CUresult cuGraphExecDestroy(void *exec) {
  --liveGraphs;
  free(exec);
  return 0;
}
