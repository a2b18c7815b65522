//===- MpiLeakSuppressions.cpp - LeakSanitizer and Open MPI ---------------===//
//
// Linked into vae-train in a build with AddressSanitizer and MPI. Open MPI
// keeps what MPI_Init allocates (its components, their argument vectors,
// hwloc's topology) past MPI_Finalize, and unloads the components it
// dlopen'ed, so LeakSanitizer reports them at exit, from Open MPI's
// libraries or from modules it no longer knows. Those are not vae-train's:
// they are suppressed; every other leak is still reported. (Open MPI's
// strings from vasprintf come with a stack cut short at libc; vae-train
// calls no vasprintf.)
//
//===----------------------------------------------------------------------===//

extern "C" __attribute__((used, visibility("default"))) const char *__lsan_default_suppressions() {
  return "leak:libmpi.so\n"
         "leak:libopen-pal.so\n"
         "leak:libopen-rte.so\n"
         "leak:libhwloc.so\n"
         "leak:libpmix.so\n"
         "leak:libevent\n"
         "leak:mca_\n"
         "leak:<unknown module>\n"
         "leak:__vasprintf_internal\n";
}
