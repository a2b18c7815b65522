//===- Model.h - load a vaec-generated library ------------------*- C++ -*-===//
//
// Part of libvaert, which links no LLVM or MLIR: a trained .so plus this
// runtime is all a user ships.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_MODEL_H
#define VAE_RUNTIME_MODEL_H

#include "vae/abi.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace vae {

namespace gpu {
class DeviceBuffers;
} // namespace gpu

/// A float buffer aligned to VAE_ALIGNMENT bytes, zero-initialized.
class AlignedBuffer {
public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);
  float *data() { return static_cast<float *>(ptr.get()); }
  const float *data() const { return static_cast<const float *>(ptr.get()); }
  void *bytes() { return ptr.get(); }
  size_t size() const { return numBytes / sizeof(float); }

private:
  struct Free {
    void operator()(void *p) const;
  };
  std::unique_ptr<void, Free> ptr;
  size_t numBytes = 0;
};

/// A generated model, dlopen'ed and checked against this runtime's ABI.
class Model {
public:
  /// Loads `path`; on failure returns null and a message naming the file.
  static std::unique_ptr<Model> load(const std::string &path, std::string &error);
  ~Model();

  const vae_model &desc() const { return *descriptor; }
  /// The file it was loaded from.
  const std::string &path() const { return libraryPath; }
  /// Parameter `name`, or null.
  const vae_param *param(const std::string &name) const;

  /// Writes the initial parameters into host memory (on every device).
  void initParams(float *params, uint64_t seed) const;
  void evalElbo(const float *params, void *arena, const float *x, const float *eps,
                float terms[3]) const;
  void encode(const float *params, void *arena, const float *x, float *mu, float *logvar) const;
  /// Per-example loss terms, each `batch` floats.
  void score(const float *params, void *arena, const float *x, const float *eps, float *loss,
             float *reconstruction, float *kl) const;
  /// Gradients of the loss into `grads` (param_floats floats); `weights`
  /// per example as in abi.h.
  void gradStep(const float *params, void *arena, const float *x, const float *eps,
                const float *weights, float terms[3], float *grads) const;
  /// One optimizer step; `params` and `state` are updated in place.
  /// `hyper`: this step's learning rate, KL weight and optimizer constants
  /// (desc().defaults are the train block's).
  void trainStep(float *params, float *state, void *arena, const float *x, const float *eps,
                 const float *weights, int64_t step, const vae_hyperparams &hyper,
                 float terms[3]) const;

  /// trainStep in three calls, so that a GPU works while the host prepares
  /// the next batch: stageStep takes a step's batch (a GPU copies it and
  /// starts its upload, overlapping the step in flight; the CPU keeps the
  /// pointers, which must stay valid until startTrainStep), startTrainStep
  /// queues the step on the staged batch and returns (the CPU runs it
  /// here), finishTrainStep waits for it and gives its loss terms. Between
  /// start and finish, the host may stage the next batch but not touch
  /// `params` or `state`.
  void stageStep(const float *x, const float *eps, const float *weights) const;
  void startTrainStep(float *params, float *state, void *arena, int64_t step,
                      const vae_hyperparams &hyper) const;
  void finishTrainStep(float terms[3]) const;

  /// train_step's update from `grads` (param_floats floats, as gradStep
  /// writes them), in place on `params` and `state`.
  void applyUpdate(float *params, float *state, void *arena, const float *grads, int64_t step,
                   const vae_hyperparams &hyper) const;

  /// A GPU library (desc().device == VAE_DEVICE_CUDA) takes the same host
  /// buffers: parameters and optimizer state stay on the device between
  /// calls, so the host copy of one is current only after syncToHost, and a
  /// write to it counts only after hostWrote. (No-ops on the CPU.)
  void syncToHost(const float *buffer) const;
  void hostWrote(const float *buffer) const;
  /// "CPU", or the GPU it runs on ("NVIDIA H200, compute capability 9.0").
  std::string deviceDescription() const;

  /// The train block's hyperparameters (desc().defaults) with the KL weight
  /// `klWeight`.
  vae_hyperparams hyperparams(float klWeight) const {
    vae_hyperparams hyper = descriptor->defaults;
    hyper.kl_weight = klWeight;
    return hyper;
  }
  /// Example weights for a batch whose first `n` examples are real (ones
  /// when n == batch).
  std::vector<float> exampleWeights(size_t n) const;
  /// `out1` is written only when desc().decode_outputs == 2.
  void decode(const float *params, void *arena, const float *z, float *out0, float *out1) const;

  /// Buffers of the sizes the descriptor asks for.
  AlignedBuffer newParams() const;
  AlignedBuffer newArena() const;
  AlignedBuffer newOptimizerState() const;

private:
  Model() = default;
  void *handle = nullptr;
  std::string libraryPath;
  const vae_model *descriptor = nullptr;
  vae_init_params_fn initFn = nullptr;
  vae_eval_elbo_fn elboFn = nullptr;
  vae_encode_fn encodeFn = nullptr;
  void *decodeFn = nullptr;
  vae_grad_step_fn gradFn = nullptr;
  vae_train_step_fn trainFn = nullptr;
  vae_apply_update_fn applyFn = nullptr;
  vae_score_fn scoreFn = nullptr;
  /// A GPU library's device buffers (null on the CPU).
  std::unique_ptr<gpu::DeviceBuffers> device;
  /// The step between stageStep and finishTrainStep.
  struct StepInFlight {
    const float *x = nullptr, *eps = nullptr, *weights = nullptr; // CPU: staged
    const float *terms = nullptr;                                 // GPU: where the copy back lands
    float cpuTerms[3] = {};
    bool staged = false, started = false;
  };
  mutable StepInFlight inFlight;
};

} // namespace vae

#endif // VAE_RUNTIME_MODEL_H
