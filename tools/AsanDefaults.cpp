//===- AsanDefaults.cpp - ASan options of the tools that link MLIR --------===//
//
// Linked into vaec, vae-opt, vdl-fuzz and vdl-gradcheck in a build with
// AddressSanitizer (VAEC_SANITIZE). LLVM's BumpPtrAllocator, compiled into
// our code from its header, poisons each new slab and unpoisons what it hands
// out; libMLIR.so, built without ASan, then allocates from the same slabs
// (attribute and type storage) without unpoisoning and writes to memory ASan
// believes poisoned: a false use-after-poison. Manual poisoning is off; every
// other check stays.
//
//===----------------------------------------------------------------------===//

extern "C" __attribute__((used, visibility("default"))) const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}
