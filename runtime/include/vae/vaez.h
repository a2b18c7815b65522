/*===- vae/vaez.h - lossless compression with a compiled model, in C ------===*
 *
 * libvaert's bits-back ANS coder (docs/compression.md) behind a plain C
 * interface, for any language that can call C (the Python module does,
 * through libvaez.so). The library at `library_path` is the model, `params`
 * its parameter buffer (param_floats floats, a checkpoint's); the .vaez
 * bytes are those `vae-train compress` writes. Both return 0 on success and
 * 1 on failure, with the reason in `error` (NUL-terminated, truncated to
 * error_bytes); nothing is allocated on failure.
 *
 *===----------------------------------------------------------------------===*/

#ifndef VAE_VAEZ_H
#define VAE_VAEZ_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from libvaez.so, which hides everything else. */
#if defined(__GNUC__)
#define VAEZ_API __attribute__((visibility("default")))
#else
#define VAEZ_API
#endif

enum vaez_dtype { VAEZ_UINT8 = 1, VAEZ_FLOAT32 = 2, VAEZ_FLOAT64 = 3 };

/* The code's precisions in bits (0: the default: 12, 24, 24). */
typedef struct vaez_precisions {
  int32_t latent, posterior, likelihood;
} vaez_precisions;

/* Compresses `count` examples of shape shape[0..rank) (their product is the
 * model's input size), `dtype`, C order, at `precisions` (may be null).
 * *out (release with vaez_free) receives *out_bytes bytes of a .vaez file. */
VAEZ_API int vaez_compress(const char *library_path, const float *params, const void *data,
                           int32_t dtype, int64_t count, const int64_t *shape, int32_t rank,
                           const vaez_precisions *precisions, void **out, int64_t *out_bytes,
                           char *error, int64_t error_bytes);

/* Decompresses `size` bytes of a .vaez file: *data (release with
 * vaez_free) receives *count examples of *dtype, each of shape
 * shape[0..*rank) (shape holds at least 8 entries). */
VAEZ_API int vaez_decompress(const char *library_path, const float *params, const void *bytes,
                             int64_t size, void **data, int32_t *dtype, int64_t *count,
                             int64_t *shape, int32_t *rank, char *error, int64_t error_bytes);

VAEZ_API void vaez_free(void *memory);

#ifdef __cplusplus
}
#endif

#endif /* VAE_VAEZ_H */
