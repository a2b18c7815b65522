//===- TargetDescription.cpp - what code generation knows of the CPU ------===//

#include "codegen/common/TargetDescription.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <thread>

using namespace vaec;

namespace {

struct CacheSizes {
  int64_t l1d, l2;
};

/// Per-core L1d and L2 of the CPUs LLVM names, where known (vendor manuals);
/// a conservative default for the rest.
CacheSizes cachesOf(llvm::StringRef cpu) {
  constexpr int64_t K = 1024, M = 1024 * 1024;
  return llvm::StringSwitch<CacheSizes>(cpu)
      .Cases("znver1", "znver2", "znver3", {32 * K, 512 * K})
      .Case("znver4", {32 * K, 1 * M})
      .Case("znver5", {48 * K, 1 * M})
      .Cases("haswell", "broadwell", "skylake", "alderlake", {32 * K, 256 * K})
      .Cases("skylake-avx512", "cascadelake", "cooperlake", {32 * K, 1 * M})
      .Cases("icelake-server", "icelake-client", "tigerlake", {48 * K, 1280 * K})
      .Cases("sapphirerapids", "emeraldrapids", "graniterapids", {48 * K, 2 * M})
      .Cases("neoverse-n1", "neoverse-v1", "neoverse-n2", "neoverse-v2", {64 * K, 1 * M})
      .Cases("apple-m1", "apple-m2", "apple-m3", {128 * K, 4 * M})
      .Cases("cortex-a72", "cortex-a76", {32 * K, 512 * K})
      .Default({32 * K, 256 * K});
}

/// sysfs's "48K" / "1024K" / "1M" as bytes.
std::optional<int64_t> parseSize(llvm::StringRef text) {
  text = text.trim();
  int64_t scale = 1;
  if (text.consume_back("K"))
    scale = 1024;
  else if (text.consume_back("M"))
    scale = 1024 * 1024;
  int64_t value;
  if (text.getAsInteger(10, value) || value <= 0)
    return std::nullopt;
  return value * scale;
}

std::optional<std::string> readFile(const llvm::Twine &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return std::nullopt;
  return (*buffer)->getBuffer().trim().str();
}

/// The host's per-core data caches from sysfs (Linux), where it has them.
std::optional<CacheSizes> hostCaches() {
  CacheSizes sizes{0, 0};
  for (int index = 0; index < 8; ++index) {
    std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    auto level = readFile(dir + "/level"), type = readFile(dir + "/type"),
         size = readFile(dir + "/size");
    if (!level || !type || !size)
      break;
    std::optional<int64_t> bytes = parseSize(*size);
    if (!bytes)
      continue;
    if (*level == "1" && *type == "Data")
      sizes.l1d = *bytes;
    else if (*level == "2" && *type != "Instruction")
      sizes.l2 = *bytes;
  }
  if (sizes.l1d == 0 || sizes.l2 == 0)
    return std::nullopt;
  return sizes;
}

} // namespace

vdl::TargetAttr vaec::describeTarget(mlir::MLIRContext *context, const llvm::TargetMachine &machine,
                                     bool host) {
  const llvm::Triple &triple = machine.getTargetTriple();
  const llvm::MCSubtargetInfo &subtarget = *machine.getMCSubtargetInfo();
  auto has = [&](const char *feature) { return subtarget.checkFeatures(feature); };
  int64_t bits = 128, registers = 16;
  bool fma = false;
  if (triple.isX86()) {
    if (has("+avx512f")) {
      bits = 512;
      registers = 32;
    } else if (has("+avx")) {
      bits = 256;
    }
    fma = has("+fma") || has("+avx512f");
  } else if (triple.isAArch64()) {
    registers = 32; // v0-v31, 128-bit NEON (SVE's wider vectors are not used)
    fma = true;
  }
  CacheSizes caches = cachesOf(machine.getTargetCPU());
  if (host)
    if (std::optional<CacheSizes> measured = hostCaches())
      caches = *measured;
  // libomp picks the thread count at run time; this is the compiling
  // machine's, a guess for the one that runs the code.
  int64_t threads = std::max(1u, std::thread::hardware_concurrency());
  return vdl::TargetAttr::get(context, triple.str(), machine.getTargetCPU(), bits, registers, fma,
                              caches.l1d, caches.l2, threads);
}

vdl::TargetAttr vaec::targetOf(mlir::Operation *op) {
  auto module = op->getParentOfType<mlir::ModuleOp>();
  if (auto ownModule = mlir::dyn_cast<mlir::ModuleOp>(op))
    module = ownModule;
  if (module)
    if (auto target = module->getAttrOfType<vdl::TargetAttr>(vdl::VDLDialect::kTargetAttrName))
      return target;
  return vdl::TargetAttr::get(op->getContext(), "x86_64-unknown-linux-gnu", "x86-64-v4",
                              /*vectorBits=*/512, /*vectorRegisters=*/32, /*fma=*/true,
                              /*l1dBytes=*/48 * 1024, /*l2Bytes=*/1024 * 1024, /*threads=*/2);
}

namespace {

/// Cycles of one k step of a `rows` x `vectors`-register tile: its loads
/// (one broadcast per row, one load per vector of B) at two a cycle, its FMAs
/// at two a cycle, and never less than one FMA latency, since each
/// accumulator waits for its own previous FMA.
double stepCycles(int64_t rows, int64_t vectors) {
  if (rows == 0 || vectors == 0)
    return 0;
  return std::max({double(rows + vectors) / 2, double(rows * vectors) / 2, 4.0});
}

} // namespace

int64_t vaec::broadcastRegisters(vdl::TargetAttr target, int64_t rows) {
  if (target.getVectorBits() >= 512)
    return 1;
  if (llvm::Triple(target.getTriple()).isAArch64())
    return (rows + target.getLanes() - 1) / target.getLanes();
  return rows;
}

RegisterBlock vaec::matmulRegisterBlock(vdl::TargetAttr target, int64_t m, int64_t n,
                                        int64_t liveRows) {
  if (m < 1 || n < 1)
    return {1, 1};
  int64_t lanes = target.getLanes(), registers = target.getVectorRegisters();
  // A tile's registers per row: whole registers, or, for a width that is
  // neither whole registers nor a power of two narrower than one (5 of a
  // 13-wide edge), about one operation per element, as LLVM splits it.
  auto vectorsFor = [&](int64_t cols) {
    if (cols % lanes == 0 || (cols & (cols - 1)) == 0)
      return (cols + lanes - 1) / lanes;
    return cols;
  };
  struct Candidate {
    RegisterBlock block;
    double cycles;
    bool exact, exactRows;
  };
  std::vector<Candidate> candidates;
  // 1, 2 or 4 registers a row: LLVM 19 legalizes a vector of 3 registers'
  // width (48 floats on AVX-512) through a widened 64, with inserts and
  // spills: conv_vae's largest filter gradient (64 x 288, K = 25088) took
  // 49 ms a step in 8 x 48 blocks and 4.7 ms in 8 x 32 ones (Zen 4).
  for (int64_t vectors = 1; vectors <= 4; vectors *= 2) {
    int64_t cols = vectors * lanes;
    if (cols > n) {
      if (vectors > 1)
        break;
      cols = int64_t(1) << llvm::Log2_64(uint64_t(n)); // narrower than a register
    }
    for (int64_t rows = 1; rows <= std::min<int64_t>(m, 16); ++rows) {
      // Accumulators, the k step's row of B, A's broadcasts.
      if ((rows + liveRows) * vectors + broadcastRegisters(target, rows) > registers)
        break;
      int64_t fullRows = m / rows, restRows = m % rows;
      int64_t fullCols = n / cols, restCols = n % cols;
      double cycles = double(fullRows * fullCols) * stepCycles(rows, vectorsFor(cols)) +
                      double(fullCols) * stepCycles(restRows, vectorsFor(cols)) +
                      double(fullRows) * stepCycles(rows, vectorsFor(restCols)) +
                      stepCycles(restRows, vectorsFor(restCols));
      candidates.push_back({{rows, cols}, cycles, restRows == 0 && restCols == 0, restRows == 0});
    }
  }
  // No block leaves room for the live rows (a direct convolution whose
  // kernel row is wider than the register file, forced by --conv=direct):
  // one row of one register, or narrower, and the rows spill.
  if (candidates.empty())
    return {1, n >= lanes ? lanes : int64_t(1) << llvm::Log2_64(uint64_t(n))};
  double best =
      std::min_element(candidates.begin(), candidates.end(),
                       [](const Candidate &a, const Candidate &b) { return a.cycles < b.cycles; })
          ->cycles;
  // Within 10 % of the fastest: no remainder tiles (less code, and no slow
  // edge tiles the model underrates), then fewer cycles, then more
  // accumulators (more slack for the FMA latency).
  auto rank = [&](const Candidate &c) {
    return std::make_tuple(c.cycles <= 1.1 * best, c.exact, c.exactRows, -c.cycles,
                           c.block.rows * c.block.cols);
  };
  return std::max_element(candidates.begin(), candidates.end(),
                          [&](const Candidate &a, const Candidate &b) { return rank(a) < rank(b); })
      ->block;
}

int64_t vaec::vectorWidth(vdl::TargetAttr target, int64_t size) {
  int64_t width = target.getLanes();
  while (width > 1 && width > size)
    width /= 2;
  return width;
}

int64_t vaec::panelDepth(vdl::TargetAttr target, int64_t cols) {
  return std::max<int64_t>(1, target.getL2Bytes() / 4 / (cols * int64_t(sizeof(float))));
}
