//===- VDLInterfaces.td - vdl op interfaces ----------------*- tablegen -*-===//

#ifndef VDL_INTERFACES_TD
#define VDL_INTERFACES_TD

include "mlir/IR/OpBase.td"

def VDL_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::vaec::vdl";
  let description = [{
    The reverse-mode rule of an op, in the spirit of JAX's transpose rules:
    given the adjoint of the op's result, build the adjoints of the operands
    the caller asks for. The autodiff pass calls it in reverse program order;
    an op on the path from a parameter to the loss that does not implement it
    is a compile error at its location, never a silently wrong gradient.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, the adjoint of every operand
        `i` with `needed[i]` set into `operandAdjoints[i]` (resized to the
        number of operands; others stay null). `resultAdjoint` is d loss / d
        result. Fails, with an error at the op, when a needed adjoint has no
        rule.
      }],
      "::mlir::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$resultAdjoint,
           "::llvm::ArrayRef<bool>":$needed,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandAdjoints)>
  ];
}

#endif // VDL_INTERFACES_TD
