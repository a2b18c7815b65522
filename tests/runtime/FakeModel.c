/* A library that looks like a vaec model but was "built" for another ABI
 * version: the runtime must refuse it. */
#include "vae/abi.h"

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION 999
#endif

#ifdef FAKE_NO_DESCRIPTOR
int not_a_model(void) { return 0; }
#else
const vae_model vae_model_desc = {
    .abi_version = FAKE_ABI_VERSION,
    .struct_size = sizeof(vae_model),
    .name = "fake",
    .batch = 1,
    .input_rank = 1,
    .likelihood = VAE_LIKELIHOOD_BERNOULLI,
    .input_shape = {4},
    .input_size = 4,
    .latent_size = 2,
    .decode_outputs = 1,
};
#endif
