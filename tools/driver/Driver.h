//===- Driver.h - the vaec compilation pipeline -----------------*- C++ -*-===//
//
// VDL source -> AST -> vdl dialect -> (later) linalg -> LLVM -> .so, stopping
// after the stage named by --emit. This header is free of MLIR and LLVM types
// so the command-line front end (CLI11, built with exceptions) can include it.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_CODEGEN_DRIVER_H
#define VAEC_CODEGEN_DRIVER_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vaec {

struct DriverOptions {
  std::string input;       // `.vdl` file, or "-" for stdin
  std::string output;      // "-" is stdout; empty: stdout for
                           // text, <input stem>.so / .o else
  std::string emit = "so"; // one of allEmitStages()
  bool printIRAfterAll = false;
  std::vector<std::string> printIRAfter; // pass arguments, e.g. vdl-import
  std::optional<int64_t> batch;          // overrides `batch` of the file
  bool locations = true;                 // print `loc(...)` in textual IR
  bool stats = false;                    // FLOPs, kernels, arena bytes on stderr
  bool timing = false;                   // --timing: per-pass wall time
  bool fusion = true;                    // --no-fusion turns vdl-fusion off
  bool memoryPlan = true;                // --no-memory-plan: no arena reuse
  bool parallel = true;                  // --no-parallel: one thread, no libomp
  std::string conv = "auto";             // --conv: im2col, direct or auto
  std::string cpu;                       // empty: the host CPU
  std::string targetTriple;              // empty: the host
  std::string features;                  // --mattr: "+avx2,-avx512f" on top of the CPU's
  bool verifyEach = false;               // --verify-each: verify the IR after every pass
  bool singleThreaded = false;           // --mlir-disable-threading: one compiler thread
  std::string target = "cpu";            // --target: cpu, or nvptx (NVIDIA GPUs)
  std::string gpuArch = "sm_90";         // --gpu-arch: the PTX's compute capability
  bool dumpPassPipeline = false;         // print the pass pipeline to stderr first
  bool debugInfo = false;                // -g: line tables back to the VDL source
  bool remarks = false;                  // the passes' decisions as remarks at VDL lines
};

/// Every stage name of docs/design.md ("The stages and the IR at each"), in
/// pipeline order.
const std::vector<std::string> &allEmitStages();
/// The stages this build can stop after.
const std::vector<std::string> &availableEmitStages();

/// The passes the pipeline for `options` runs, in order (each once; the
/// frontend first, as vdl-import): the names --print-ir-after takes.
std::vector<std::string> pipelinePassNames(const DriverOptions &options);

/// Runs the pipeline; returns the process exit code. Diagnostics go to stderr.
int runDriver(const DriverOptions &options);

} // namespace vaec

#endif // VAEC_CODEGEN_DRIVER_H
