/*===- abi-harness.c - run a vaec library's entry points, dump the results -===*
 *
 * Plain C against the C ABI (runtime/include/vae/abi.h) and libc alone, so
 * that it cross-compiles with Debian's cross C library and runs under
 * qemu-user. Loads LIB, runs vae_init_params(seed 7), vae_eval_elbo,
 * vae_grad_step and two vae_train_steps on fixed inputs, and writes every
 * result as float32 to OUT:
 *
 *   eval loss, reconstruction, kl | grad loss, reconstruction, kl |
 *   gradients [param_floats] | step 1 loss, rec, kl | step 2 loss, rec, kl |
 *   parameters after step 2 [param_floats]
 *
 * compare-dumps.py checks one architecture's dump against another's.
 *
 *===----------------------------------------------------------------------===*/

#include "vae/abi.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *symbol(void *lib, const char *name) {
  void *found = dlsym(lib, name);
  if (!found) {
    fprintf(stderr, "abi-harness: %s is missing: %s\n", name, dlerror());
    exit(1);
  }
  return found;
}

static void *allocate(size_t bytes) {
  void *memory = aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!memory) {
    fprintf(stderr, "abi-harness: out of memory\n");
    exit(1);
  }
  memset(memory, 0, bytes);
  return memory;
}

static void write_floats(FILE *out, const float *values, size_t count) {
  if (fwrite(values, sizeof(float), count, out) != count) {
    fprintf(stderr, "abi-harness: cannot write the dump\n");
    exit(1);
  }
}

/* A reproducible value in [0, 1) from an index (a 32-bit integer hash). */
static float unit(uint32_t i) {
  i ^= i >> 16;
  i *= 0x7feb352dU;
  i ^= i >> 15;
  i *= 0x846ca68bU;
  i ^= i >> 16;
  return (float)(i >> 8) / 16777216.0f;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: abi-harness LIB.so OUT.bin\n");
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "abi-harness: cannot load %s: %s\n", argv[1], dlerror());
    return 1;
  }
  const vae_model *model = symbol(lib, VAE_MODEL_SYMBOL);
  if (model->abi_version != VAE_ABI_VERSION) {
    fprintf(stderr, "abi-harness: %s has ABI version %u, this harness %u\n", argv[1],
            model->abi_version, (unsigned)VAE_ABI_VERSION);
    return 1;
  }
  vae_init_params_fn init_params = symbol(lib, VAE_INIT_PARAMS_SYMBOL);
  vae_eval_elbo_fn eval_elbo = symbol(lib, VAE_EVAL_ELBO_SYMBOL);
  vae_grad_step_fn grad_step = symbol(lib, VAE_GRAD_STEP_SYMBOL);
  vae_train_step_fn train_step = symbol(lib, VAE_TRAIN_STEP_SYMBOL);

  int64_t batch = model->batch, inputs = batch * model->input_size,
          latents = batch * model->latent_size;
  float *params = allocate(sizeof(float) * model->param_floats);
  float *grads = allocate(sizeof(float) * model->param_floats);
  float *state = allocate(sizeof(float) * model->opt_state_floats);
  void *arena = allocate(model->arena_bytes);
  float *x = allocate(sizeof(float) * inputs);
  float *eps = allocate(sizeof(float) * latents);
  float *weights = allocate(sizeof(float) * batch);
  for (int64_t i = 0; i < inputs; ++i)
    x[i] = unit((uint32_t)i) < 0.3f ? unit((uint32_t)i + 0x9e3779b9U) : 0.0f;
  for (int64_t i = 0; i < latents; ++i)
    eps[i] = 2.0f * unit((uint32_t)i + 0x51ed27U) - 1.0f;
  for (int64_t i = 0; i < batch; ++i)
    weights[i] = 1.0f;

  FILE *out = fopen(argv[2], "wb");
  if (!out) {
    fprintf(stderr, "abi-harness: cannot write %s\n", argv[2]);
    return 1;
  }
  float terms[3];
  init_params(params, 7);
  eval_elbo(params, arena, x, eps, &terms[0], &terms[1], &terms[2]);
  write_floats(out, terms, 3);
  grad_step(params, arena, x, eps, weights, &terms[0], &terms[1], &terms[2], grads);
  write_floats(out, terms, 3);
  write_floats(out, grads, (size_t)model->param_floats);
  for (int64_t step = 1; step <= 2; ++step) {
    train_step(params, state, arena, x, eps, weights, step, &model->defaults, &terms[0], &terms[1],
               &terms[2]);
    write_floats(out, terms, 3);
  }
  write_floats(out, params, (size_t)model->param_floats);
  if (fclose(out) != 0) {
    fprintf(stderr, "abi-harness: cannot write %s\n", argv[2]);
    return 1;
  }
  printf("%s: %s, batch %lld, %lld parameters; -ELBO %.4f\n", argv[1], model->name,
         (long long)batch, (long long)model->param_floats, terms[0]);
  return 0;
}
