//===- FrontendFixture.h - run the VDL frontend on a string -----*- C++ -*-===//

#ifndef VAEC_TESTS_UNIT_FRONTENDFIXTURE_H
#define VAEC_TESTS_UNIT_FRONTENDFIXTURE_H

#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace vaec::test {

/// Source, diagnostics and the parsed (and optionally checked) module of one
/// VDL snippet. Printed diagnostics land in `output`.
struct Frontend {
  llvm::SourceMgr sourceMgr;
  std::string output;
  llvm::raw_string_ostream os{output};
  DiagnosticEngine diags{sourceMgr, os};
  Module module;
  llvm::StringRef text;

  explicit Frontend(const std::string &source) {
    sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(source, "test.vdl"),
                                 llvm::SMLoc());
    text = sourceMgr.getMemoryBuffer(1)->getBuffer();
  }
  /// Parses; returns true when no error was reported.
  bool parse() {
    Parser parser(text, "test.vdl", diags);
    module = parser.parseModule();
    return !diags.hadError();
  }
  /// Parses and checks.
  bool check() { return parse() && analyze(module, diags); }
  /// The recorded `line:col: error: message` lines, joined.
  std::string errors() const {
    std::string all;
    for (const std::string &line : diags.recorded())
      all += line + "\n";
    return all;
  }
};

/// The Kingma & Welling model of README.md and docs/vdl.md (models/mnist_vae.vdl).
inline const char *kMnistVae = R"(
model mnist_vae {
  input x: f32[784];
  latent z: 20;
  encoder(x) {
    h = relu(dense(x, 400));
    return normal(mu = dense(h, 20), logvar = dense(h, 20));
  }
  decoder(z) {
    h = relu(dense(z, 400));
    return bernoulli(logits = dense(h, 784));
  }
  prior normal(0, 1);
}
train {
  optimizer adam(lr = 1e-3);
  batch 128;
  epochs 10;
  loss elbo(beta = 1.0);
  seed 1;
}
)";

} // namespace vaec::test

#endif // VAEC_TESTS_UNIT_FRONTENDFIXTURE_H
