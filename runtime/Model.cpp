//===- Model.cpp - load a vaec-generated library --------------------------===//

#include "runtime/Model.h"

#include "runtime/Launcher.h"

#include <dlfcn.h>
#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <vector>

using namespace vae;

AlignedBuffer::AlignedBuffer(size_t bytes) : numBytes(bytes) {
  size_t rounded = (bytes + VAE_ALIGNMENT - 1) / VAE_ALIGNMENT * VAE_ALIGNMENT;
  if (rounded == 0)
    rounded = VAE_ALIGNMENT;
  void *p = std::aligned_alloc(VAE_ALIGNMENT, rounded);
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, rounded);
  ptr.reset(p);
}

void AlignedBuffer::Free::operator()(void *p) const { std::free(p); }

namespace {

/// Checks what the generated code promises; returns an empty string if the
/// descriptor is sound.
std::string checkDescriptor(const vae_model &d) {
  if (d.abi_version != VAE_ABI_VERSION)
    return "was built for vaec ABI version " + std::to_string(d.abi_version) +
           ", but this runtime implements version " + std::to_string(VAE_ABI_VERSION) +
           "; recompile it with this vaec";
  if (d.struct_size != sizeof(vae_model))
    return "has a descriptor of " + std::to_string(d.struct_size) +
           " bytes, but this runtime expects " + std::to_string(sizeof(vae_model));
  if (!d.fingerprint)
    return "has no model fingerprint";
  if (!d.name || d.batch <= 0 || d.input_rank < 1 || d.input_rank > VAE_MAX_RANK ||
      d.latent_size <= 0 || d.input_size <= 0)
    return "has a malformed descriptor (name, batch or shapes)";
  int64_t inputSize = 1;
  for (int i = 0; i < d.input_rank; ++i)
    inputSize *= d.input_shape[i];
  if (inputSize != d.input_size)
    return "has an input shape that does not match its input size";
  bool twoOutputs = d.likelihood == VAE_LIKELIHOOD_GAUSSIAN ||
                    d.likelihood == VAE_LIKELIHOOD_DISCRETIZED_LOGISTIC;
  bool discrete = d.likelihood == VAE_LIKELIHOOD_DISCRETIZED_LOGISTIC;
  if (d.likelihood < VAE_LIKELIHOOD_BERNOULLI ||
      d.likelihood > VAE_LIKELIHOOD_DISCRETIZED_LOGISTIC ||
      d.decode_outputs != (twoOutputs ? 2 : 1) ||
      (discrete ? d.likelihood_bins < 2 || d.likelihood_bins > 256 : d.likelihood_bins != 0))
    return "has an unknown likelihood";
  if (!(d.prior_std > 0))
    return "has a prior with a standard deviation that is not positive";
  if (d.num_params < 0 || (d.num_params > 0 && !d.params) || d.param_floats < 0 ||
      d.arena_bytes < 0 || d.opt_state_floats < 0)
    return "has a malformed parameter table";
  for (int64_t i = 0; i < d.num_params; ++i) {
    const vae_param &p = d.params[i];
    if (!p.name || p.offset < 0 || p.size <= 0 || p.offset + p.size > d.param_floats ||
        p.rank < 1 || p.rank > VAE_MAX_RANK)
      return "has a malformed entry for parameter " + std::to_string(i);
  }
  return "";
}

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#else
#error "vaec's runtime knows the ELF machine of x86-64 and aarch64 hosts"
#endif

std::string machineName(uint16_t machine) {
  switch (machine) {
  case EM_X86_64:
    return "x86-64";
  case EM_AARCH64:
    return "aarch64";
  case EM_RISCV:
    return "riscv";
  case EM_PPC64:
    return "ppc64";
  default:
    return "ELF machine " + std::to_string(machine);
  }
}

/// dlopen maps segments without checking them against the file size, and a
/// truncated library then dies of SIGBUS on first touch. Check the ELF
/// headers first; returns an empty string for a plausible shared object.
std::string checkElf(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return "cannot be opened";
  uint64_t size = uint64_t(in.tellg());
  in.seekg(0);
  Elf64_Ehdr header;
  if (size < sizeof(header) || !in.read(reinterpret_cast<char *>(&header), sizeof(header)))
    return "is not a shared library: " + std::to_string(size) +
           " bytes, shorter than an ELF header";
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
    return "is not a shared library: no ELF magic at byte 0";
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_type != ET_DYN)
    return "is not a 64-bit ELF shared library";
  // dlopen says only "cannot open shared object file: No such file or
  // directory" of a library built for another architecture.
  if (header.e_machine != kHostMachine)
    return "is a library for " + machineName(header.e_machine) + ", and this machine runs " +
           machineName(kHostMachine) + ": compile the model here (vaec without --target-triple) " +
           "or run it on " + machineName(header.e_machine);
  auto beyond = [&](uint64_t offset, uint64_t length) {
    return offset > size || length > size - offset;
  };
  if (beyond(header.e_phoff, uint64_t(header.e_phnum) * header.e_phentsize) ||
      header.e_phentsize != sizeof(Elf64_Phdr))
    return "is truncated or corrupt: its program headers at byte " +
           std::to_string(header.e_phoff) + " lie outside the file (" + std::to_string(size) +
           " bytes)";
  std::vector<Elf64_Phdr> segments(header.e_phnum);
  in.seekg(std::streamoff(header.e_phoff));
  in.read(reinterpret_cast<char *>(segments.data()),
          std::streamsize(segments.size() * sizeof(Elf64_Phdr)));
  for (size_t i = 0; i < segments.size(); ++i)
    if (segments[i].p_type == PT_LOAD && beyond(segments[i].p_offset, segments[i].p_filesz))
      return "is truncated: segment " + std::to_string(i) + " ends at byte " +
             std::to_string(segments[i].p_offset + segments[i].p_filesz) + " but the file has " +
             std::to_string(size) + " bytes";
  if (header.e_shnum && beyond(header.e_shoff, uint64_t(header.e_shnum) * header.e_shentsize))
    return "is truncated: its section headers at byte " + std::to_string(header.e_shoff) +
           " lie outside the file (" + std::to_string(size) + " bytes)";
  return "";
}

} // namespace

std::unique_ptr<Model> Model::load(const std::string &path, std::string &error) {
  if (std::string why = checkElf(path); !why.empty()) {
    error = "cannot load '" + path + "': it " + why;
    return nullptr;
  }
  // RTLD_LOCAL: two models loaded side by side keep their own symbols.
  void *handle = dlopen(path.find('/') == std::string::npos ? ("./" + path).c_str() : path.c_str(),
                        RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    error = "cannot load '" + path + "': " + (why ? why : "unknown error");
    return nullptr;
  }
  std::unique_ptr<Model> model(new Model);
  model->handle = handle;
  model->libraryPath = path;
  auto symbol = [&](const char *name) { return dlsym(handle, name); };
  model->descriptor = static_cast<const vae_model *>(symbol(VAE_MODEL_SYMBOL));
  if (!model->descriptor) {
    error = "'" + path + "' is not a vaec model: it has no " VAE_MODEL_SYMBOL;
    return nullptr;
  }
  if (std::string why = checkDescriptor(*model->descriptor); !why.empty()) {
    error = "'" + path + "' " + why;
    return nullptr;
  }
  model->initFn = reinterpret_cast<vae_init_params_fn>(symbol(VAE_INIT_PARAMS_SYMBOL));
  model->elboFn = reinterpret_cast<vae_eval_elbo_fn>(symbol(VAE_EVAL_ELBO_SYMBOL));
  model->encodeFn = reinterpret_cast<vae_encode_fn>(symbol(VAE_ENCODE_SYMBOL));
  model->decodeFn = symbol(VAE_DECODE_SYMBOL);
  model->gradFn = reinterpret_cast<vae_grad_step_fn>(symbol(VAE_GRAD_STEP_SYMBOL));
  model->trainFn = reinterpret_cast<vae_train_step_fn>(symbol(VAE_TRAIN_STEP_SYMBOL));
  model->applyFn = reinterpret_cast<vae_apply_update_fn>(symbol(VAE_APPLY_UPDATE_SYMBOL));
  model->scoreFn = reinterpret_cast<vae_score_fn>(symbol(VAE_SCORE_SYMBOL));
  const char *missing = !model->initFn     ? VAE_INIT_PARAMS_SYMBOL
                        : !model->elboFn   ? VAE_EVAL_ELBO_SYMBOL
                        : !model->encodeFn ? VAE_ENCODE_SYMBOL
                        : !model->decodeFn ? VAE_DECODE_SYMBOL
                        : !model->gradFn   ? VAE_GRAD_STEP_SYMBOL
                        : !model->trainFn  ? VAE_TRAIN_STEP_SYMBOL
                        : !model->applyFn  ? VAE_APPLY_UPDATE_SYMBOL
                        : !model->scoreFn  ? VAE_SCORE_SYMBOL
                                           : nullptr;
  if (missing) {
    error = "'" + path + "' is not a complete vaec model: it has no " + missing;
    return nullptr;
  }
  if (model->descriptor->device == VAE_DEVICE_CUDA) {
    std::string why;
    gpu::Device *device = gpu::Device::open(why);
    if (!device) {
      error = "'" + path + "' runs on an NVIDIA GPU (vaec --target=nvptx): " + why +
              ". Without a GPU, compile the model for the CPU (vaec without --target)";
      return nullptr;
    }
    int arch = model->descriptor->gpu_arch;
    if (device->driver().computeCapability() < arch) {
      error = "'" + path + "' was compiled for sm_" + std::to_string(arch) + ", but the GPU is " +
              device->driver().deviceDescription() + "; recompile it with vaec --gpu-arch=sm_" +
              std::to_string(device->driver().computeCapability());
      return nullptr;
    }
    model->device = std::make_unique<gpu::DeviceBuffers>(*device);
  } else if (model->descriptor->device != VAE_DEVICE_CPU) {
    error = "'" + path + "' is for a device this runtime does not know (" +
            std::to_string(model->descriptor->device) + ")";
    return nullptr;
  }
  return model;
}

Model::~Model() {
  device.reset(); // device memory before the library
  if (handle)
    dlclose(handle);
}

const vae_param *Model::param(const std::string &name) const {
  for (int64_t i = 0; i < descriptor->num_params; ++i)
    if (name == descriptor->params[i].name)
      return &descriptor->params[i];
  return nullptr;
}

//===----------------------------------------------------------------------===//
// The entry points. On a GPU every buffer goes through gpu::DeviceBuffers:
// parameters and optimizer state resident, inputs uploaded, outputs fetched
// (the copy back waits for the kernels).
//===----------------------------------------------------------------------===//

namespace {
using Slot = gpu::DeviceBuffers::Slot;

/// Bytes of the buffers an entry point takes.
struct Sizes {
  size_t params, state, arena, x, latent, batch;
  explicit Sizes(const vae_model &d)
      : params(size_t(d.param_floats) * sizeof(float)),
        state(size_t(d.opt_state_floats) * sizeof(float)), arena(size_t(d.arena_bytes)),
        x(size_t(d.batch * d.input_size) * sizeof(float)),
        latent(size_t(d.batch * d.latent_size) * sizeof(float)),
        batch(size_t(d.batch) * sizeof(float)) {}
};

float *f32(void *pointer) { return static_cast<float *>(pointer); }

/// Three scalars (the loss terms) in one device buffer, fetched by one copy.
constexpr size_t kTermStride = VAE_ALIGNMENT / sizeof(float);

/// Where an entry point writes its loss terms on the device.
std::array<float *, 3> termSlots(gpu::DeviceBuffers &d) {
  float *out = f32(d.scratch(Slot::Out0, 3 * VAE_ALIGNMENT));
  return {out, out + kTermStride, out + 2 * kTermStride};
}

/// The loss terms back from the device (which waits for the entry point).
void fetchTerms(gpu::DeviceBuffers &d, float terms[3]) {
  float fetched[3 * kTermStride];
  d.fetch(fetched, Slot::Out0, sizeof(fetched));
  for (size_t i = 0; i < 3; ++i)
    terms[i] = fetched[i * kTermStride];
}
} // namespace

void Model::initParams(float *params, uint64_t seed) const {
  initFn(params, seed);
  hostWrote(params);
}

void Model::evalElbo(const float *params, void *arena, const float *x, const float *eps,
                     float terms[3]) const {
  if (!device)
    return elboFn(params, arena, x, eps, &terms[0], &terms[1], &terms[2]);
  Sizes size(*descriptor);
  gpu::DeviceBuffers &d = *device;
  auto out = termSlots(d);
  elboFn(f32(d.resident(Slot::Params, params, size.params)), d.scratch(Slot::Arena, size.arena),
         f32(d.input(Slot::X, x, size.x)), f32(d.input(Slot::Eps, eps, size.latent)), out[0],
         out[1], out[2]);
  fetchTerms(d, terms);
}

void Model::encode(const float *params, void *arena, const float *x, float *mu,
                   float *logvar) const {
  if (!device)
    return encodeFn(params, arena, x, mu, logvar);
  Sizes size(*descriptor);
  gpu::DeviceBuffers &d = *device;
  encodeFn(f32(d.resident(Slot::Params, params, size.params)), d.scratch(Slot::Arena, size.arena),
           f32(d.input(Slot::X, x, size.x)), f32(d.scratch(Slot::Out0, size.latent)),
           f32(d.scratch(Slot::Out1, size.latent)));
  d.fetch(mu, Slot::Out0, size.latent);
  d.fetch(logvar, Slot::Out1, size.latent);
}

void Model::score(const float *params, void *arena, const float *x, const float *eps, float *loss,
                  float *reconstruction, float *kl) const {
  if (!device)
    return scoreFn(params, arena, x, eps, loss, reconstruction, kl);
  Sizes size(*descriptor);
  gpu::DeviceBuffers &d = *device;
  scoreFn(f32(d.resident(Slot::Params, params, size.params)), d.scratch(Slot::Arena, size.arena),
          f32(d.input(Slot::X, x, size.x)), f32(d.input(Slot::Eps, eps, size.latent)),
          f32(d.scratch(Slot::Out0, size.batch)), f32(d.scratch(Slot::Out1, size.batch)),
          f32(d.scratch(Slot::Out2, size.batch)));
  d.fetch(loss, Slot::Out0, size.batch);
  d.fetch(reconstruction, Slot::Out1, size.batch);
  d.fetch(kl, Slot::Out2, size.batch);
}

void Model::gradStep(const float *params, void *arena, const float *x, const float *eps,
                     const float *weights, float terms[3], float *grads) const {
  if (!device)
    return gradFn(params, arena, x, eps, weights, &terms[0], &terms[1], &terms[2], grads);
  Sizes size(*descriptor);
  gpu::DeviceBuffers &d = *device;
  auto out = termSlots(d);
  gradFn(f32(d.resident(Slot::Params, params, size.params)), d.scratch(Slot::Arena, size.arena),
         f32(d.input(Slot::X, x, size.x)), f32(d.input(Slot::Eps, eps, size.latent)),
         f32(d.input(Slot::Weights, weights, size.batch)), out[0], out[1], out[2],
         f32(d.scratch(Slot::Grads, size.params)));
  fetchTerms(d, terms);
  d.fetch(grads, Slot::Grads, size.params);
}

void Model::trainStep(float *params, float *state, void *arena, const float *x, const float *eps,
                      const float *weights, int64_t step, const vae_hyperparams &hyper,
                      float terms[3]) const {
  stageStep(x, eps, weights);
  startTrainStep(params, state, arena, step, hyper);
  finishTrainStep(terms);
}

void Model::stageStep(const float *x, const float *eps, const float *weights) const {
  inFlight.staged = true;
  if (!device) {
    inFlight.x = x, inFlight.eps = eps, inFlight.weights = weights;
    return;
  }
  Sizes size(*descriptor);
  device->stageStep(x, size.x, eps, size.latent, weights, size.batch);
}

void Model::startTrainStep(float *params, float *state, void *arena, int64_t step,
                           const vae_hyperparams &hyper) const {
  if (!inFlight.staged || inFlight.started) {
    fmt::print(stderr, "error: vae::Model::startTrainStep without a staged batch, or with a "
                       "step in flight\n");
    std::abort();
  }
  inFlight.staged = false;
  inFlight.started = true;
  if (!device) {
    float *t = inFlight.cpuTerms;
    return trainFn(params, state, arena, inFlight.x, inFlight.eps, inFlight.weights, step, &hyper,
                   &t[0], &t[1], &t[2]);
  }
  Sizes size(*descriptor);
  gpu::DeviceBuffers &d = *device;
  float *deviceParams = f32(d.resident(Slot::Params, params, size.params));
  float *deviceState = f32(d.resident(Slot::State, state, size.state));
  void *deviceArena = d.scratch(Slot::Arena, size.arena);
  auto *deviceHyper =
      static_cast<const vae_hyperparams *>(d.input(Slot::Hyper, &hyper, sizeof(hyper)));
  auto out = termSlots(d);
  gpu::DeviceBuffers::StepInputs in = d.takeStaged();
  d.launchStep([&] {
    trainFn(deviceParams, deviceState, deviceArena, in.x, in.eps, in.weights, step, deviceHyper,
            out[0], out[1], out[2]);
  });
  d.deviceWrote(Slot::Params);
  d.deviceWrote(Slot::State);
  inFlight.terms = d.fetchTermsAsync(3 * VAE_ALIGNMENT);
}

void Model::finishTrainStep(float terms[3]) const {
  if (!inFlight.started) {
    fmt::print(stderr, "error: vae::Model::finishTrainStep without a step in flight\n");
    std::abort();
  }
  inFlight.started = false;
  if (!device) {
    std::copy(inFlight.cpuTerms, inFlight.cpuTerms + 3, terms);
    return;
  }
  device->waitStep();
  for (size_t i = 0; i < 3; ++i)
    terms[i] = inFlight.terms[i * kTermStride];
}

void Model::applyUpdate(float *params, float *state, void *arena, const float *grads, int64_t step,
                        const vae_hyperparams &hyper) const {
  if (!device)
    return applyFn(params, state, arena, grads, step, &hyper);
  Sizes size(*descriptor);
  gpu::DeviceBuffers &d = *device;
  applyFn(f32(d.resident(Slot::Params, params, size.params)),
          f32(d.resident(Slot::State, state, size.state)), d.scratch(Slot::Arena, size.arena),
          f32(d.input(Slot::Grads, grads, size.params)), step,
          static_cast<const vae_hyperparams *>(d.input(Slot::Hyper, &hyper, sizeof(hyper))));
  d.deviceWrote(Slot::Params);
  d.deviceWrote(Slot::State);
}

void Model::decode(const float *params, void *arena, const float *z, float *out0,
                   float *out1) const {
  bool two = descriptor->decode_outputs == 2;
  if (!device) {
    if (two)
      return reinterpret_cast<vae_decode2_fn>(decodeFn)(params, arena, z, out0, out1);
    return reinterpret_cast<vae_decode1_fn>(decodeFn)(params, arena, z, out0);
  }
  Sizes size(*descriptor);
  gpu::DeviceBuffers &d = *device;
  const float *deviceParams = f32(d.resident(Slot::Params, params, size.params));
  const float *deviceZ = f32(d.input(Slot::Eps, z, size.latent));
  float *first = f32(d.scratch(Slot::Out0, size.x));
  if (two)
    reinterpret_cast<vae_decode2_fn>(decodeFn)(deviceParams, d.scratch(Slot::Arena, size.arena),
                                               deviceZ, first, f32(d.scratch(Slot::Out1, size.x)));
  else
    reinterpret_cast<vae_decode1_fn>(decodeFn)(deviceParams, d.scratch(Slot::Arena, size.arena),
                                               deviceZ, first);
  d.fetch(out0, Slot::Out0, size.x);
  if (two)
    d.fetch(out1, Slot::Out1, size.x);
}

void Model::syncToHost(const float *buffer) const {
  if (device)
    device->syncToHost(buffer);
}

void Model::hostWrote(const float *buffer) const {
  if (device)
    device->hostWrote(buffer);
}

std::string Model::deviceDescription() const {
  gpu::Device *gpuDevice = device ? gpu::Device::current() : nullptr;
  return gpuDevice ? gpuDevice->driver().deviceDescription() : "CPU";
}

AlignedBuffer Model::newParams() const {
  return AlignedBuffer(size_t(descriptor->param_floats) * sizeof(float));
}

AlignedBuffer Model::newOptimizerState() const {
  return AlignedBuffer(size_t(descriptor->opt_state_floats) * sizeof(float));
}

AlignedBuffer Model::newArena() const { return AlignedBuffer(size_t(descriptor->arena_bytes)); }

std::vector<float> Model::exampleWeights(size_t n) const {
  size_t batch = size_t(descriptor->batch);
  std::vector<float> weights(batch, 0.0f);
  std::fill_n(weights.begin(), std::min(n, batch), float(double(batch) / double(n)));
  return weights;
}
