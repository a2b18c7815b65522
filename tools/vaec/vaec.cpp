//===- vaec.cpp - the VDL compiler command line ---------------------------===//
//
// Only option parsing lives here (CLI11, which needs exceptions); the
// pipeline is tools/driver/Driver.cpp.
//
//===----------------------------------------------------------------------===//

#include "tools/driver/Driver.h"

#include "llvm/Config/llvm-config.h"

#include <CLI/CLI.hpp>

int main(int argc, char **argv) {
  vaec::DriverOptions options;
  CLI::App app{"vaec: compile a VDL variational autoencoder into a native "
               "library.\nStages: ast, vdl, grad, linalg, fused, memref, (gpu, nvvm: "
               "--target=nvptx) llvm-dialect, (ptx) llvm, asm, obj, so.",
               "vaec"};
  app.add_option("INPUT", options.input, "the model's VDL source ('-' reads stdin)")
      ->required()
      ->type_name("");
  app.add_option("-o,--output", options.output,
                 "output file ('-' writes stdout; default: stdout for text, "
                 "MODEL.so or MODEL.o for binaries)")
      ->type_name("FILE");
  app.add_option("--emit", options.emit, "stop after this stage (default: so)")
      ->type_name("STAGE")
      ->check(CLI::IsMember(vaec::allEmitStages()).description(""));
  app.add_flag("--print-ir-after-all", options.printIRAfterAll,
               "print the IR after every pass to stderr");
  app.add_option("--print-ir-after", options.printIRAfter,
                 "print the IR after the named passes (a comma-separated list, "
                 "or repeated; vdl-import is the frontend; the passes are listed below)")
      ->type_name("PASS[,PASS...]")
      ->delimiter(',')
      ->expected(1) // (one value per flag: the input is never taken for a pass)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("-g", options.debugInfo,
               "debug line tables: generated code maps back to the model's VDL lines "
               "(perf annotate, perf report --sort srcline, gdb)");
  app.add_flag("--remarks", options.remarks,
               "say what the compiler chose for each layer and why, as file:line:col: "
               "remark: lines at the layer's VDL line (convolution algorithm and layout, "
               "register blocks, threads, what fusion left apart)");
  app.add_flag("--dump-pass-pipeline", options.dumpPassPipeline,
               "print the pass pipeline (as mlir-opt's textual pipeline) to stderr, then "
               "compile");
  int64_t batch = 0;
  app.add_option("--batch", batch, "batch size, 1 to 65536 (default: the model's train block's)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}).description(""));
  bool noLocations = false;
  app.add_flag("--no-locations", noLocations, "print textual IR without loc(...) annotations");
  app.add_flag("--stats", options.stats,
               "print per entry point FLOPs, kernels and bytes moved before and "
               "after fusion (and the loop nests once matmul epilogues are fused), "
               "and arena bytes against the lower bound and the no-reuse total, "
               "to stderr");
  app.add_flag("--timing", options.timing,
               "print the wall time of every pass (as mlir-opt --mlir-timing) and of "
               "LLVM's translation, -O3, machine code and link to stderr");
  bool noFusion = false, noMemoryPlan = false, noParallel = false;
  app.add_flag("--no-fusion", noFusion,
               "skip vdl-fusion and the matmul epilogue fusion (one kernel per operation)");
  app.add_flag("--no-memory-plan", noMemoryPlan,
               "give every temporary its own place in the arena (no reuse)");
  app.add_flag("--no-parallel", noParallel,
               "run every kernel on one thread (no OpenMP, no libomp dependency)");
  app.add_option("--conv", options.conv,
                 "how conv2d is computed: im2col (gathered columns and a GEMM), direct "
                 "(register blocks of output pixels x output channels on a channels-last "
                 "copy) or auto (the one measured faster for each layer's shape; the "
                 "default)")
      ->type_name("auto|im2col|direct")
      ->check(CLI::IsMember({"auto", "im2col", "direct"}).description(""));
  app.add_option("--cpu", options.cpu,
                 "CPU to generate code for, e.g. znver4 (default: this machine's)")
      ->type_name("NAME");
  app.add_option("--target-triple", options.targetTriple, "target triple (default: this machine's)")
      ->type_name("TRIPLE");
  app.add_option("--mattr", options.features,
                 "CPU features to add or remove, as llc's -mattr: +avx2,-avx512f (default: "
                 "none)")
      ->type_name("FEATURES");
  app.add_option("--target", options.target,
                 "cpu (default); nvptx: kernels for NVIDIA GPUs as PTX, launched "
                 "through the CUDA driver by vae-train; nvptx-emulated: those kernels as "
                 "serial loops in a CPU library (tests the GPU mapping without a GPU)")
      ->type_name("cpu|nvptx|nvptx-emulated")
      ->check(CLI::IsMember({"cpu", "nvptx", "nvptx-emulated"}).description(""));
  app.add_option("--gpu-arch", options.gpuArch,
                 "--target=nvptx: the compute capability to generate PTX for (default sm_90)")
      ->type_name("sm_NN");
  app.add_flag("--mlir-disable-threading", options.singleThreaded,
               "compile on one thread: MLIR's passes and LLVM's code generation (the library "
               "is the same byte for byte)");
  app.add_flag("--verify-each", options.verifyEach,
               "verify the IR after every pass, as mlir-opt does (default: once, after the last)");
  app.set_version_flag("--version",
                       std::string("vaec ") + VAEC_VERSION + " (LLVM " LLVM_VERSION_STRING ")");
  app.footer([] {
    vaec::DriverOptions all;
    std::string list;
    for (const std::string &pass : vaec::pipelinePassNames(all))
      list += (list.empty() ? "" : ", ") + pass;
    return "The passes to --emit=so for the CPU, in order (an earlier --emit stops sooner; "
           "--target=nvptx adds its own; --dump-pass-pipeline prints them with their "
           "options):\n  " +
           list;
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    // A usage error exits 2 (CLI11's own codes, 105 and up, are not a
    // shell's); --help and --version 0.
    return app.exit(e) == 0 ? 0 : 2;
  }
  options.fusion = !noFusion;
  options.memoryPlan = !noMemoryPlan;
  options.parallel = !noParallel;
  if (batch)
    options.batch = batch;
  options.locations = !noLocations;
  return vaec::runDriver(options);
}
