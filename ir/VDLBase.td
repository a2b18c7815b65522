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
    /// Module attribute (unit, vaec --remarks): the passes explain their
    /// decisions as remarks at each op's VDL location.
    static constexpr ::llvm::StringLiteral kRemarksAttrName = "vdl.remarks";
    /// Whether the module around `op` (or `op`, a module) asks the passes
    /// to explain their decisions (`vdl.remarks`, set by vaec --remarks).
    static bool remarksWanted(::mlir::Operation *op);
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
    /// Function attribute: the FLOP count by source line, {"FILE:LINE" =
    /// count} (set by vdl-count-flops; per-layer GFLOP/s in benchmarks).
    static constexpr ::llvm::StringLiteral kFlopsByLineAttrName = "vdl.flops_by_line";
    /// Module attribute: the #vdl.target code is generated for (set by the
    /// driver or vdl-set-target; read by every code generation pass).
    static constexpr ::llvm::StringLiteral kTargetAttrName = "vdl.target";
    /// Module attribute of IR vaec prints: the stage it stopped after
    /// ("linalg"), where `vaec FILE.mlir` carries on from.
    static constexpr ::llvm::StringLiteral kStageAttrName = "vdl.stage";
    /// Module attribute of IR vaec prints: what the library's descriptor
    /// needs of the model (shapes, likelihood, prior, the train block's
    /// defaults, the fingerprint), as a dictionary.
    static constexpr ::llvm::StringLiteral kDescriptorAttrName = "vdl.descriptor";
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

def VDL_TargetAttr : VDL_Attr<"Target", "target"> {
  let summary = "the CPU code is generated for, as code generation sees it";
  let description = [{
    Computed once from the target triple, CPU and features (the host's by
    default; `vaec --target-triple`, `--cpu`, `--mattr`, or the
    `vdl-set-target` pass) and kept on the module as `vdl.target`. Every code
    generation decision reads it: register blocks from the vector width and
    the number of vector registers, cache blocking from the L1d and L2 sizes,
    the vector width of elementwise kernels, which shuffles a transpose uses.

    ```mlir
    module attributes {vdl.target = #vdl.target<"x86_64-pc-linux-gnu", "znver3",
        vector_bits = 256, vector_registers = 16, fma = true,
        l1d = 32768, l2 = 524288, threads = 2>} { ... }
    ```

    `vector_bits` is the widest vector register (128: SSE, NEON; 256: AVX2;
    512: AVX-512), `vector_registers` how many the ISA has (16 on x86 before
    AVX-512, 32 on AVX-512 and AArch64), `l1d` and `l2` the per-core data
    cache sizes in bytes, `threads` the cores the parallel loops may use.
  }];
  let parameters = (ins StringRefParameter<"LLVM target triple">:$triple,
                        StringRefParameter<"LLVM CPU name">:$cpu,
                        "int64_t":$vectorBits, "int64_t":$vectorRegisters,
                        "bool":$fma, "int64_t":$l1dBytes, "int64_t":$l2Bytes,
                        "int64_t":$threads);
  let assemblyFormat = [{
    `<` $triple `,` $cpu `,` `vector_bits` `=` $vectorBits `,`
    `vector_registers` `=` $vectorRegisters `,` `fma` `=` $fma `,`
    `l1d` `=` $l1dBytes `,` `l2` `=` $l2Bytes `,` `threads` `=` $threads `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// f32 elements in one vector register.
    int64_t getLanes() const { return getVectorBits() / 32; }
  }];
}

#endif // VDL_BASE_TD
