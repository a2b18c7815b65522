//===- Descriptor.h - the descriptor of the model -------------*- C++ -*-===//
//
// ModelInfo (tools/driver/Driver.h) to and from the module attribute
// vdl.descriptor, and the model's fingerprint.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_TOOLS_DRIVER_DESCRIPTOR_H
#define VAEC_TOOLS_DRIVER_DESCRIPTOR_H

#include "codegen/llvm/Target.h"
#include "tools/driver/Driver.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"

#include <string>

namespace vaec {

/// What the descriptor needs of the model, as the module attribute
/// vdl.descriptor, so that printed IR can be carried on to a library.
mlir::DictionaryAttr descriptorAttr(mlir::MLIRContext *context, const ModelInfo &info);

/// The inverse of descriptorAttr; `error` names the first field missing or
/// of the wrong kind.
bool descriptorFromAttr(mlir::DictionaryAttr dict, ModelInfo &info, std::string &error);

/// The fingerprint of the model `text` defines, for vae_model.fingerprint:
/// "encoder=H decoder=H prior=H", each H the first 8 bytes (hex) of the
/// SHA-256 of that part's vdl IR, printed without locations, of the model at
/// batch 1, so that it names the architecture and nothing of the batch, the
/// train block or the target: the libraries of one model, compiled for any
/// CPU or batch, share checkpoints; another activation, layer or likelihood
/// does not. The decoder's part covers its likelihood (kind and sigma), the
/// prior's the prior's mean and standard deviation.
std::string modelFingerprint(llvm::StringRef text, llvm::StringRef filename, const ModelInfo &info);

} // namespace vaec

#endif // VAEC_TOOLS_DRIVER_DESCRIPTOR_H
