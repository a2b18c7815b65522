//===- ModelGenerator.h - random valid VDL models ---------------*- C++ -*-===//
//
// A generator of random *valid* VDL programs for differential testing, in the
// spirit of Csmith and YARPGen: every program it writes must compile, and its
// numbers must stay in a range where float32 code can be compared with a
// float64 reference (so `exp` and `log` only see bounded or positive inputs,
// and divisions have denominators bounded away from zero). Everything else is
// drawn: input and latent sizes, depths, widths, expression trees (dense
// layers, every activation, + - * / with tensors and scalars, negation,
// names used several times), likelihoods, priors, optimizers, beta, batch
// sizes (odd ones too) and the syntax (keyword or positional arguments,
// comments). The same seed gives the same program.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_TESTS_FUZZ_MODELGENERATOR_H
#define VAEC_TESTS_FUZZ_MODELGENERATOR_H

#include <cstdint>
#include <string>

namespace vaec::fuzz {

struct GeneratedModel {
  std::string source;  // the .vdl text
  std::string summary; // one line: sizes, depth, likelihood, optimizer
};

/// The model of `seed`.
GeneratedModel generateModel(uint64_t seed);

} // namespace vaec::fuzz

#endif // VAEC_TESTS_FUZZ_MODELGENERATOR_H
