//===- SetTarget.cpp - the vdl-set-target pass ----------------------------===//
//
// Resolves a target triple, CPU and features through LLVM and records what
// code generation needs of them as the module's #vdl.target.
//
//===----------------------------------------------------------------------===//

#include "codegen/common/Passes.h"
#include "codegen/common/TargetDescription.h"
#include "codegen/llvm/Target.h"

namespace vaec {
#define GEN_PASS_DEF_SETTARGET
#include "codegen/common/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

struct SetTargetPass : vaec::impl::SetTargetBase<SetTargetPass> {
  using SetTargetBase::SetTargetBase;

  void runOnOperation() override {
    std::string error;
    auto machine = vaec::createTargetMachine(triple, cpu, mattr, error);
    if (!machine) {
      getOperation().emitError("vdl-set-target: ") << error;
      return signalPassFailure();
    }
    getOperation()->setAttr(
        vaec::vdl::VDLDialect::kTargetAttrName,
        vaec::describeTarget(&getContext(), *machine, vaec::isHostTarget(triple, cpu)));
  }
};

} // namespace
