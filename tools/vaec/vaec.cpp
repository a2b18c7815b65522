//===- vaec.cpp - the VDL compiler command line ---------------------------===//
//
// Only option parsing lives here (CLI11, which needs exceptions); the
// pipeline is codegen/Driver.cpp.
//
//===----------------------------------------------------------------------===//

#include "codegen/Driver.h"

#include "llvm/Config/llvm-config.h"

#include <CLI/CLI.hpp>

int main(int argc, char **argv) {
  vaec::DriverOptions options;
  CLI::App app{"vaec: compile a VDL variational autoencoder into a native "
               "library.\nStages: ast, vdl, grad, linalg, fused, memref, (gpu, nvvm: "
               "--target=nvptx) llvm-dialect, (ptx) llvm, asm, obj, so.",
               "vaec"};
  app.add_option("input", options.input, "VDL source file ('-' reads stdin)")
      ->required();
  app.add_option("-o,--output", options.output,
                 "output file ('-' writes stdout; default: stdout for text, "
                 "MODEL.so or MODEL.o for binaries)");
  app.add_option("--emit", options.emit, "stop after this stage")
      ->check(CLI::IsMember(vaec::allEmitStages()));
  app.add_flag("--print-ir-after-all", options.printIRAfterAll,
               "print the IR after every pass to stderr");
  app.add_option("--print-ir-after", options.printIRAfter,
                 "print the IR after the named passes (a comma-separated list, "
                 "or repeated; vdl-import is the frontend)")
      ->delimiter(',');
  int64_t batch = 0;
  app.add_option("--batch", batch, "batch size, overriding the model's train block")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}));
  bool noLocations = false;
  app.add_flag("--no-locations", noLocations,
               "print textual IR without loc(...) annotations");
  app.add_flag("--stats", options.stats,
               "print per entry point FLOPs, kernels and bytes moved before and "
               "after fusion (and the loop nests once matmul epilogues are fused), "
               "and arena bytes against the lower bound and the no-reuse total, "
               "to stderr");
  app.add_flag("--timing", options.timing,
               "print the wall time of every pass (as mlir-opt --mlir-timing) and of "
               "LLVM's translation, -O3, machine code and link to stderr");
  app.add_flag("!--no-fusion", options.fusion,
               "skip vdl-fusion and the matmul epilogue fusion (one kernel per operation)");
  app.add_flag("!--no-memory-plan", options.memoryPlan,
               "give every temporary its own place in the arena (no reuse)");
  app.add_flag("!--no-parallel", options.parallel,
               "run every kernel on one thread (no OpenMP, no libomp dependency)");
  app.add_option("--conv", options.conv,
                 "how conv2d is computed: im2col (gathered columns and a GEMM), direct "
                 "(register blocks of output pixels x output channels on a channels-last "
                 "copy) or auto (the one measured faster for each layer's shape)")
      ->check(CLI::IsMember({"auto", "im2col", "direct"}));
  app.add_option("--cpu", options.cpu,
                 "CPU to generate code for, e.g. znver4 (default: this machine's)");
  app.add_option("--target-triple", options.targetTriple,
                 "target triple (default: this machine's)");
  app.add_option("--mattr", options.features,
                 "CPU features to add or remove, as llc's -mattr: +avx2,-avx512f");
  app.add_option("--target", options.target,
                 "cpu (default); nvptx: kernels for NVIDIA GPUs as PTX, launched "
                 "through the CUDA driver by vae-train; nvptx-emulated: those kernels as "
                 "serial loops in a CPU library (tests the GPU mapping without a GPU)")
      ->check(CLI::IsMember({"cpu", "nvptx", "nvptx-emulated"}));
  app.add_option("--gpu-arch", options.gpuArch,
                 "--target=nvptx: the compute capability to generate PTX for (default sm_90)");
  app.add_flag("--verify-each", options.verifyEach,
               "verify the IR after every pass, as mlir-opt does (default: once, after the last)");
  app.set_version_flag("--version",
                       std::string("vaec ") + VAEC_VERSION + " (LLVM " LLVM_VERSION_STRING ")");
  CLI11_PARSE(app, argc, argv);
  if (batch)
    options.batch = batch;
  options.locations = !noLocations;
  return vaec::runDriver(options);
}
