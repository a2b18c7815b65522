//===- BitsBack.h - lossless compression with a trained VAE -----*- C++ -*-===//
//
// Bits-back coding with ANS (Townsend, Bird & Barber, ICLR 2019). Per
// example x, the compressor
//   1. pops z off the message with the posterior q(z|x)  (bits back),
//   2. pushes x with the likelihood p(x|z),
//   3. pushes z with the prior p(z);
// the decompressor undoes the three in reverse order, recomputing q(z|x)
// from the x it has just decoded. The net cost of an example is
// -log2 p(x|z) - log2 p(z) + log2 q(z|x): its -ELBO in bits, in expectation.
//
// Latents are discretized into 2^latent buckets of equal prior mass per
// dimension (the prior is then uniform: `latent` bits a dimension), each
// represented by its median; q(z|x) over the buckets is quantized to integer
// frequencies at precision `posterior`, p(x|z) over the values of an
// element at precision `likelihood`, every symbol at least 1. Both sides
// compute these from the same library's outputs with the same arithmetic,
// so they agree bit for bit; nothing else is assumed.
//
// The library's entry points work on `batch` examples at once, so a code
// keeps one ANS stack per batch row (a lane): example i goes on lane
// i % batch, and every call of the encoder or decoder serves one example of
// each lane.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_BITSBACK_H
#define VAE_RUNTIME_BITSBACK_H

#include "Ans.h" // (beside it, in the tree and installed as <vae/...>)
#include "Model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vae {

/// The precisions of a code, in bits (recorded in every .vaez file).
struct BitsBackPrecisions {
  unsigned latent = 12;     ///< 2^latent buckets of equal prior mass per dimension
  unsigned posterior = 24;  ///< q(z|x) over the buckets
  unsigned likelihood = 24; ///< p(x|z) over the values of one element
};

/// The values of one element that `model`'s likelihood codes exactly (2 for
/// a Bernoulli model: 0 and 1); 0 with `why` when it codes none (a
/// continuous density).
unsigned codedSymbols(const vae_model &model, std::string &why);

class BitsBackCoder {
public:
  /// `params` and `arena` as the model's entry points take them; they must
  /// outlive the coder.
  BitsBackCoder(const Model &model, const float *params, void *arena,
                BitsBackPrecisions precisions);
  size_t lanes() const { return batch; }

  /// Pushes `count` examples (input_size symbols each, < codedSymbols())
  /// onto `stacks` (lanes() of them): example i on stack i % lanes().
  void compress(const uint8_t *symbols, size_t count, std::vector<AnsStack> &stacks);
  /// Pops the `count` examples compress pushed, into `symbols`; false when
  /// the stacks cannot be what compress made (a stack ran dry).
  bool decompress(std::vector<AnsStack> &stacks, size_t count, uint8_t *symbols);

private:
  /// Pops (compress) or pushes (decompress) the latents of round `round`'s
  /// examples with their posteriors, from the encoder's outputs.
  void posteriorStep(std::vector<AnsStack> &stacks, size_t active, bool pop);
  /// Pushes or pops one example's symbols with p(x|z) (decoder row `lane`).
  void pushExample(AnsStack &stack, size_t lane, const uint8_t *symbols);
  void popExample(AnsStack &stack, size_t lane, uint8_t *symbols);
  /// The cumulative frequency of bucket `k` under q = N(mean, sd^2) in
  /// the prior's standard units.
  uint32_t posteriorCdf(uint32_t k, double mean, double sd) const;
  /// The cumulative frequency of value `k` of element `at` of the
  /// decoder's outputs under a discretized logistic.
  uint32_t likelihoodCdf(size_t at, uint32_t k) const;
  /// Rows [0, active) of the encoder's input from `symbols`, zeros after.
  void setInputs(const uint8_t *symbols, size_t active);
  /// The decoder's input: the buckets' medians.
  void setLatents(size_t active);

  const Model &model;
  const float *params;
  void *arena;
  BitsBackPrecisions precisions;
  size_t batch, latent, size;
  bool bernoulli;  ///< else a discretized logistic
  unsigned levels; ///< values of one element
  /// Standard normal quantiles at i / 2^(latent + 1): bucket k's edges are
  /// entries 2k and 2k + 2, its median 2k + 1.
  const std::vector<double> &quantiles;
  std::vector<float> x, mu, logvar, z, out0, out1;
  std::vector<uint32_t> buckets; // [batch, latent]
};

} // namespace vae

#endif // VAE_RUNTIME_BITSBACK_H
