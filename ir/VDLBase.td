//===- VDLBase.td - vdl dialect definition and attributes --*- tablegen -*-===//
//
// The `vdl` dialect holds a VAE at the level of the VDL language: static-shaped
// tensor ops (dense layers, activations, reparameterization, analytic KL,
// log-likelihoods, the ELBO) inside one function per entry point.
//
//===----------------------------------------------------------------------===//

#ifndef VDL_BASE_TD
#define VDL_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def VDL_Dialect : Dialect {
  let name = "vdl";
  let cppNamespace = "::vaec::vdl";
  let summary = "Variational autoencoders at the level of the VDL language";
  let description = [{
    Ops on static-shaped `tensor<...xf32>` values whose first dimension is the
    batch. Parameters of a model are function arguments carrying their VDL
    name and initializer as argument attributes:

    ```mlir
    func.func @encode(%w: tensor<784x400xf32>
                          {vdl.param = "encoder.h.weight",
                           vdl.init = #vdl.uniform_fan_in<784>}, ...)
    ```
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasRegionArgAttrVerify = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Argument attribute naming a parameter (`encoder.h.weight`).
    static constexpr ::llvm::StringLiteral kParamAttrName = "vdl.param";
    /// Argument attribute holding a parameter's initializer.
    static constexpr ::llvm::StringLiteral kInitAttrName = "vdl.init";
    /// Argument attribute naming a non-parameter input (`x`, `eps`, `z`).
    static constexpr ::llvm::StringLiteral kInputAttrName = "vdl.input";
    /// Module attribute: the model's name.
    static constexpr ::llvm::StringLiteral kModelAttrName = "vdl.model";
    /// Module attribute: the batch size every shape was built for.
    static constexpr ::llvm::StringLiteral kBatchAttrName = "vdl.batch";
    /// Module attribute: the `train { ... }` settings as a dictionary.
    static constexpr ::llvm::StringLiteral kTrainAttrName = "vdl.train";
    /// Module attribute: the packed parameter layout, an array of
    /// {name, shape, offset, fan_in} dictionaries (set by vdl-pack-parameters).
    static constexpr ::llvm::StringLiteral kParamsAttrName = "vdl.params";
    /// Module attribute: floats in the packed optimizer state.
    static constexpr ::llvm::StringLiteral kStateFloatsAttrName = "vdl.state_floats";
    /// Module attribute: floats in the packed parameter buffer.
    static constexpr ::llvm::StringLiteral kParamFloatsAttrName = "vdl.param_floats";
    /// Function and module attribute: bytes of scratch arena an entry point
    /// needs (set by vdl-memory-plan; the module holds the maximum).
    static constexpr ::llvm::StringLiteral kArenaBytesAttrName = "vdl.arena_bytes";
    /// Function attribute, for --stats: {arena_bytes, lower_bound_bytes,
    /// no_reuse_bytes} of the function's plan (set by vdl-memory-plan).
    static constexpr ::llvm::StringLiteral kMemoryPlanAttrName = "vdl.memory_plan";
    /// Function attribute, for --stats: {kernels_before, kernels_after,
    /// bytes_before, bytes_after} (set by vdl-fuse-elementwise).
    static constexpr ::llvm::StringLiteral kFusionAttrName = "vdl.fusion";
    /// A loop whose iterations touch disjoint memory (unit attribute).
    static constexpr ::llvm::StringLiteral kParallelAttrName = "vdl.parallel";
    /// Argument and result attributes of @train_step: the parameter an
    /// optimizer-state tensor belongs to, and which slot it is (Adam: 0 = m,
    /// 1 = v; SGD: 0 = velocity).
    static constexpr ::llvm::StringLiteral kStateOfAttrName = "vdl.state_of";
    static constexpr ::llvm::StringLiteral kStateSlotAttrName = "vdl.state_slot";
    /// Result attribute of @train_step: the parameter a new value replaces.
    static constexpr ::llvm::StringLiteral kUpdateOfAttrName = "vdl.update_of";
    /// Result attribute of @grad_step: the parameter a gradient belongs to.
    static constexpr ::llvm::StringLiteral kGradOfAttrName = "vdl.grad_of";
    /// Function attribute: static FLOP count (set by vdl-count-flops).
    static constexpr ::llvm::StringLiteral kFlopsAttrName = "vdl.flops";
  }];
}

class VDL_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<VDL_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def VDL_UniformFanInAttr : VDL_Attr<"UniformFanIn", "uniform_fan_in"> {
  let summary = "uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) initializer";
  let description = [{
    PyTorch's `nn.Linear` default for both weight and bias: every element is
    drawn uniformly from `[-1/sqrt(fan_in), 1/sqrt(fan_in)]`.

    ```mlir
    #vdl.uniform_fan_in<784>
    ```
  }];
  let parameters = (ins "int64_t":$fanIn);
  let assemblyFormat = "`<` $fanIn `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Half-width of the uniform interval.
    double getBound() const;
  }];
}

#endif // VDL_BASE_TD
