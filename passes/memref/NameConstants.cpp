//===- NameConstants.cpp - the vdl-name-constants pass --------------------===//
//
// Bufferization's constant globals named by first use, so that a compile
// gives the same bytes every time.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"

namespace vaec {
#define GEN_PASS_DEF_NAMECONSTANTS
#include "passes/Passes.h.inc"
} // namespace vaec

using namespace mlir;

namespace {

/// One-shot bufferization's prefix for the global of a constant tensor.
constexpr llvm::StringLiteral kConstantPrefix = "__constant_";

/// `__constant_2xi32_0` -> `2xi32`: the shape part of a bufferization name.
StringRef shapeOf(StringRef name) {
  StringRef rest = name.drop_front(kConstantPrefix.size());
  auto [shape, suffix] = rest.rsplit('_');
  unsigned number;
  return !suffix.empty() && !suffix.getAsInteger(10, number) ? shape : rest;
}

struct NameConstantsPass : vaec::impl::NameConstantsBase<NameConstantsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    // The constant globals in the order of their first use, with the shape
    // part of their names.
    llvm::MapVector<Operation *, std::string> order;
    auto isConstant = [](memref::GlobalOp global) {
      return global && global.getConstant() && global.getSymName().starts_with(kConstantPrefix);
    };
    module.walk([&](memref::GetGlobalOp get) {
      auto global = symbols.lookup<memref::GlobalOp>(get.getName());
      if (isConstant(global))
        order.insert({global, shapeOf(global.getSymName()).str()});
    });
    // (Unused ones after them, in module order: no old name may remain to
    // collide with a new one.)
    for (auto global : module.getOps<memref::GlobalOp>())
      if (isConstant(global))
        order.insert({global, shapeOf(global.getSymName()).str()});
    // First to names no bufferization name takes, so that no new name
    // collides with an old one still in use; then the final names.
    unsigned temporary = 0;
    for (auto &[global, shape] : order)
      if (failed(symbols.rename(global, "__vdl_renaming_" + std::to_string(temporary++))))
        return signalPassFailure();
    llvm::StringMap<unsigned> perShape;
    Block &body = module.getBodyRegion().front();
    Operation *previous = nullptr;
    for (auto &[global, shape] : order) {
      std::string name = (kConstantPrefix + shape + "_" + Twine(perShape[shape]++)).str();
      if (failed(symbols.rename(global, name)))
        return signalPassFailure();
      if (previous)
        global->moveAfter(previous);
      else
        global->moveBefore(&body, body.begin());
      previous = global;
    }
  }
};

} // namespace
