//===- GuardedArenaTest.cpp - generated code stays inside its buffers -----===//
//
// Every buffer an entry point gets — parameters, optimizer state, the arena,
// inputs and outputs — is placed against a PROT_NONE guard page, once ending
// at it and once starting after it. An access past either end (a memory
// plan that overflows the arena, a kernel that reads beyond its buffer)
// kills the test with SIGSEGV instead of corrupting memory silently.
//
//===----------------------------------------------------------------------===//

#include "runtime/Model.h"

#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <vector>

using namespace vae;

namespace {

/// `bytes` of zeroed memory between two guard pages, flush against the upper
/// one (`atEnd`) or the lower one, 64-byte aligned.
class GuardedBuffer {
public:
  GuardedBuffer(size_t bytes, bool atEnd) {
    size_t page = size_t(sysconf(_SC_PAGESIZE));
    size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
    size_t body = (rounded + page - 1) / page * page;
    length = body + 2 * page;
    void *p = mmap(nullptr, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    base = static_cast<char *>(p);
    REQUIRE(mprotect(base + page, body, PROT_READ | PROT_WRITE) == 0);
    data = atEnd ? base + page + body - rounded : base + page;
  }
  ~GuardedBuffer() { munmap(base, length); }
  float *floats() { return reinterpret_cast<float *>(data); }

private:
  char *base = nullptr, *data = nullptr;
  size_t length = 0;
};

} // namespace

TEST_CASE("entry points touch no memory outside their buffers", "[guard]") {
  std::string error;
  auto model = Model::load(VAE_TEST_MODEL, error);
  INFO(error);
  REQUIRE(model);
  const vae_model &d = model->desc();
  size_t batch = size_t(d.batch), in = size_t(d.input_size), latent = size_t(d.latent_size);
  for (bool atEnd : {true, false}) {
    INFO((atEnd ? "buffers end at a guard page" : "buffers start after a guard page"));
    GuardedBuffer params(size_t(d.param_floats) * 4, atEnd);
    GuardedBuffer state(size_t(d.opt_state_floats) * 4, atEnd);
    GuardedBuffer grads(size_t(d.param_floats) * 4, atEnd);
    GuardedBuffer arena(size_t(d.arena_bytes), atEnd);
    GuardedBuffer x(batch * in * 4, atEnd), eps(batch * latent * 4, atEnd);
    GuardedBuffer weights(batch * 4, atEnd), mu(batch * latent * 4, atEnd);
    GuardedBuffer logvar(batch * latent * 4, atEnd), out0(batch * in * 4, atEnd);
    GuardedBuffer out1(batch * in * 4, atEnd);
    GuardedBuffer loss(batch * 4, atEnd), rec(batch * 4, atEnd), kl(batch * 4, atEnd);
    model->initParams(params.floats(), 3);
    for (size_t i = 0; i < batch * in; ++i)
      x.floats()[i] = float(i % 255) / 255.0f;
    for (size_t i = 0; i < batch * latent; ++i)
      eps.floats()[i] = float(int(i % 7) - 3) / 3.0f;
    for (size_t i = 0; i < batch; ++i)
      weights.floats()[i] = 1.0f;
    float terms[3];
    model->evalElbo(params.floats(), arena.floats(), x.floats(), eps.floats(), terms);
    CHECK(std::isfinite(terms[0]));
    model->encode(params.floats(), arena.floats(), x.floats(), mu.floats(), logvar.floats());
    model->decode(params.floats(), arena.floats(), mu.floats(), out0.floats(), out1.floats());
    model->score(params.floats(), arena.floats(), x.floats(), eps.floats(), loss.floats(),
                 rec.floats(), kl.floats());
    model->gradStep(params.floats(), arena.floats(), x.floats(), eps.floats(), weights.floats(),
                    terms, grads.floats());
    for (int64_t step = 1; step <= 2; ++step)
      model->trainStep(params.floats(), state.floats(), arena.floats(), x.floats(), eps.floats(),
                       weights.floats(), step, model->hyperparams(1.0f), terms);
    CHECK(std::isfinite(terms[0]));
  }
}
