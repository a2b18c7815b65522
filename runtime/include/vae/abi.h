/*===- vae/abi.h - the contract between generated code and the runtime ---===*
 *
 * A model compiled by vaec is a shared library exporting one descriptor
 * (`vae_model_desc`) and entry points that work only on caller-owned
 * buffers: no entry point allocates. Plain C so that any language can load
 * it. Bump VAE_ABI_VERSION on any change to a struct or a signature.
 *
 *===----------------------------------------------------------------------===*/

#ifndef VAE_ABI_H
#define VAE_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VAE_ABI_VERSION 7
#define VAE_MAX_RANK 4
/* Every buffer the runtime passes is aligned to this many bytes. */
#define VAE_ALIGNMENT 64

/* How a parameter is initialized by vae_init_params. */
enum vae_init_kind {
  /* uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's nn.Linear default. */
  VAE_INIT_UNIFORM_FAN_IN = 1,
};

/* What vae_decode writes. */
enum vae_likelihood {
  VAE_LIKELIHOOD_BERNOULLI = 1,      /* logits */
  VAE_LIKELIHOOD_GAUSSIAN = 2,       /* mean, logvar */
  VAE_LIKELIHOOD_GAUSSIAN_FIXED = 3, /* mean; sigma in the descriptor */
  /* mean, log_scale, on the data's integers 0 ... likelihood_bins - 1
   * mapped to [-1, 1] (PixelCNN++'s discretized logistic) */
  VAE_LIKELIHOOD_DISCRETIZED_LOGISTIC = 4,
};

/* The optimizer of the train block. */
enum vae_optimizer {
  VAE_OPTIMIZER_ADAM = 1,  /* PyTorch's Adam */
  VAE_OPTIMIZER_SGD = 2,   /* SGD with momentum (no dampening, no Nesterov) */
  VAE_OPTIMIZER_ADAMW = 3, /* Adam with decoupled weight decay (PyTorch's AdamW) */
};

/* Where the entry points run, and so where every buffer they take lives. */
enum vae_device {
  VAE_DEVICE_CPU = 0,
  /* NVIDIA GPU (vaec --target=nvptx): every pointer an entry point takes but
   * vae_init_params' is a CUDA device pointer (CUdeviceptr) of the current
   * context, and the entry points launch kernels through the mgpu* launcher
   * functions, which the loading program provides (libvaert does). They
   * return once the work is queued on the launcher's stream: a copy back
   * (cuMemcpyDtoH) waits for it. vae_init_params writes host memory. */
  VAE_DEVICE_CUDA = 1,
};
/* How the runtime sets each step's learning rate (hyperparams.lr). */
enum vae_lr_schedule {
  VAE_LR_CONSTANT = 0,
  VAE_LR_COSINE = 1, /* from lr down to lr_min over the run's epochs */
  VAE_LR_STEP = 2,   /* times lr_gamma every lr_step_epochs epochs */
};

/* The run-time settings of one vae_train_step: what a sweep changes
 * without recompiling. The descriptor holds the train block's values; the
 * runtime passes them, or what its flags and the schedule make of them. */
typedef struct vae_hyperparams {
  float lr;           /* this step's learning rate */
  float kl_weight;    /* the KL term's weight: beta, or less during warm-up */
  float beta1, beta2; /* Adam(W)'s decay rates */
  float eps;          /* Adam(W)'s epsilon */
  float momentum;     /* SGD's momentum */
  float weight_decay; /* AdamW's decoupled weight decay (0 for Adam) */
  float clip_norm;    /* the largest global L2 norm of the gradient; read only
                         when clips_gradients (0 there: no clipping) */
} vae_hyperparams;

typedef struct vae_param {
  const char *name; /* "encoder.h.weight" */
  int64_t offset;   /* in floats from the start of the parameter buffer */
  int64_t size;     /* elements */
  int32_t rank;
  int32_t init;                /* enum vae_init_kind */
  int64_t shape[VAE_MAX_RANK]; /* weights are [in, out], row-major */
  double init_bound;           /* half-width of the uniform interval */
} vae_param;

typedef struct vae_model {
  uint32_t abi_version; /* VAE_ABI_VERSION of the compiler that built it */
  uint32_t struct_size; /* sizeof(vae_model) in that compiler */
  const char *name;
  int64_t batch; /* every entry point works on this many examples */
  int32_t input_rank;
  int32_t likelihood;                /* enum vae_likelihood */
  int64_t input_shape[VAE_MAX_RANK]; /* one example, without the batch */
  int64_t input_size;                /* elements of one example */
  int64_t latent_size;
  int64_t decode_outputs;  /* tensors vae_decode writes: 1 or 2 */
  double likelihood_sigma; /* VAE_LIKELIHOOD_GAUSSIAN_FIXED only */
  int64_t num_params;
  const vae_param *params;
  int64_t param_floats;     /* size of the parameter buffer, in floats */
  int64_t opt_state_floats; /* size of the optimizer state, in floats */
  int64_t arena_bytes;      /* scratch memory every entry point needs */
  double beta;              /* KL weight of `loss elbo(beta = ...)` */
  int64_t warmup_epochs;    /* KL warm-up: the weight grows linearly to beta */
  int64_t epochs;           /* `epochs` of the train block */
  int64_t seed;             /* `seed` of the train block */
  double prior_mean;        /* `prior normal(mean, std)` */
  double prior_std;
  /* "encoder=H decoder=H prior=H": 16 hex digits of SHA-256 per part, of
   * its IR at batch 1 (the decoder's with its likelihood, the prior's
   * parameters). Libraries of one model share it whatever the batch, train
   * settings or CPU; a checkpoint records it and vae-train refuses another. */
  const char *fingerprint;
  int32_t optimizer;        /* enum vae_optimizer: what opt_state holds */
  int32_t clips_gradients;  /* 1: vae_train_step computes the gradient's global
                               norm and clips it to hyperparams.clip_norm */
  vae_hyperparams defaults; /* the train block's (kl_weight: beta) */
  int32_t lr_schedule;      /* enum vae_lr_schedule */
  int32_t patience;         /* early stopping after this many epochs without a
                               better validation -ELBO (0: never) */
  double lr_warmup_epochs;  /* the learning rate rises linearly from 0 first */
  double lr_min;            /* VAE_LR_COSINE: the last learning rate */
  double lr_step_epochs;    /* VAE_LR_STEP: every this many epochs, */
  double lr_gamma;          /* the learning rate is multiplied by this */
  double val_fraction;      /* of the training set held out for validation */
  int32_t device;           /* enum vae_device */
  int32_t gpu_arch;         /* VAE_DEVICE_CUDA: the PTX's compute capability,
                               major * 10 + minor (90 for sm_90); 0 else */
  int64_t likelihood_bins;  /* a discrete likelihood's values (0 ... bins - 1):
                               the data are fed as those integers, not scaled;
                               0 for the others */
} vae_model;

/* The entry points. `arena` holds arena_bytes; x is [batch, input_size],
 * eps and z are [batch, latent_size], and so are mu and logvar. The loss
 * terms are nats per example, averaged over the batch. */
typedef void (*vae_init_params_fn)(float *params, uint64_t seed);
typedef void (*vae_eval_elbo_fn)(const float *params, void *arena, const float *x, const float *eps,
                                 float *loss, float *reconstruction, float *kl);
typedef void (*vae_encode_fn)(const float *params, void *arena, const float *x, float *mu,
                              float *logvar);
/* The loss terms of every example: loss, reconstruction and kl are
 * [batch] arrays (for anomaly scores and an exact test -ELBO over a
 * padded last batch). */
typedef void (*vae_score_fn)(const float *params, void *arena, const float *x, const float *eps,
                             float *loss, float *reconstruction, float *kl);
/* d loss / d params into `grads`, laid out like `params` (padding zero).
 * `weights` ([batch]) scales each example's terms before the batch mean:
 * ones for a full batch; batch/n for the n real examples of a padded batch
 * and 0 for its padding, so that loss and gradients are those of the real
 * examples. No update: for data-parallel training an allreduce of `grads`
 * goes between this and the optimizer. */
typedef void (*vae_grad_step_fn)(const float *params, void *arena, const float *x, const float *eps,
                                 const float *weights, float *loss, float *reconstruction,
                                 float *kl, float *grads);
/* One optimizer step, in place: forward, backward, and the update of
 * `params` and `opt_state` (opt_state_floats floats, zero before step 1).
 * `weights` as for vae_grad_step; `step` counts from 1 (Adam's bias
 * correction); `hyper` holds this step's learning rate, KL weight and
 * optimizer constants. */
typedef void (*vae_train_step_fn)(float *params, float *opt_state, void *arena, const float *x,
                                  const float *eps, const float *weights, int64_t step,
                                  const vae_hyperparams *hyper, float *loss, float *reconstruction,
                                  float *kl);
/* The update vae_train_step makes, from gradients the caller computed (with
 * vae_grad_step, laid out like `params`; for data-parallel training summed
 * across processes first), in place on `params` and `opt_state`. `step` and
 * `hyper` as for vae_train_step (hyper.kl_weight is not read). */
typedef void (*vae_apply_update_fn)(float *params, float *opt_state, void *arena,
                                    const float *grads, int64_t step, const vae_hyperparams *hyper);
/* decode_outputs == 1 */
typedef void (*vae_decode1_fn)(const float *params, void *arena, const float *z, float *out0);
/* decode_outputs == 2 */
typedef void (*vae_decode2_fn)(const float *params, void *arena, const float *z, float *out0,
                               float *out1);

#define VAE_MODEL_SYMBOL "vae_model_desc"
#define VAE_INIT_PARAMS_SYMBOL "vae_init_params"
#define VAE_EVAL_ELBO_SYMBOL "vae_eval_elbo"
#define VAE_ENCODE_SYMBOL "vae_encode"
#define VAE_DECODE_SYMBOL "vae_decode"
#define VAE_GRAD_STEP_SYMBOL "vae_grad_step"
#define VAE_TRAIN_STEP_SYMBOL "vae_train_step"
#define VAE_APPLY_UPDATE_SYMBOL "vae_apply_update"
#define VAE_SCORE_SYMBOL "vae_score"

#ifdef __cplusplus
}
#endif

#endif /* VAE_ABI_H */
