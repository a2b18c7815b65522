//===- ModelLoaderTest.cpp - the runtime refuses what it cannot run -------===//

#include "runtime/Model.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

using namespace vae;

namespace {

std::string writeFile(const std::string &name, const std::string &bytes) {
  std::string path = std::string(VAE_TEST_TMP) + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

TEST_CASE("a missing file is refused, naming it", "[loader]") {
  std::string error;
  CHECK_FALSE(Model::load("/nonexistent/model.so", error));
  CHECK(error == "cannot load '/nonexistent/model.so': it cannot be opened");
}

TEST_CASE("a file that is not a shared library is refused", "[loader]") {
  std::string path = writeFile("garbage.so", std::string(100, 'x'));
  std::string error;
  CHECK_FALSE(Model::load(path, error));
  CHECK(error == "cannot load '" + path + "': it is not a shared library: no ELF magic at byte 0");
}

TEST_CASE("a truncated model library is refused", "[loader]") {
  std::string whole = readFile(VAE_TEST_MODEL);
  REQUIRE(whole.size() > 4096);
  std::string path = writeFile("truncated.so", whole.substr(0, whole.size() / 3));
  std::string error;
  CHECK_FALSE(Model::load(path, error));
  CHECK(error.find("cannot load '" + path + "': it is truncated") == 0);
}

TEST_CASE("a library for another architecture is refused, naming both", "[loader]") {
  // The model library with its ELF header's e_machine (bytes 18-19, little
  // endian) set to the other of x86-64 (62) and aarch64 (183).
  std::string whole = readFile(VAE_TEST_MODEL);
  REQUIRE(whole.size() > 64);
  bool hostIsX86 = static_cast<unsigned char>(whole[18]) == 62;
  whole[18] = char(hostIsX86 ? 183 : 62);
  whole[19] = 0;
  std::string path = writeFile("other-machine.so", whole);
  std::string error;
  CHECK_FALSE(Model::load(path, error));
  CHECK(error == "cannot load '" + path + "': it is a library for " +
                     (hostIsX86 ? "aarch64" : "x86-64") + ", and this machine runs " +
                     (hostIsX86 ? "x86-64" : "aarch64") +
                     ": compile the model here (vaec without --target-triple) or run it on " +
                     (hostIsX86 ? "aarch64" : "x86-64"));
}

TEST_CASE("a shared library without a descriptor is refused", "[loader]") {
  std::string error;
  CHECK_FALSE(Model::load(VAE_TEST_NOT_A_MODEL, error));
  CHECK(error.find("is not a vaec model: it has no vae_model_desc") != std::string::npos);
}

TEST_CASE("a model built for another ABI version is refused", "[loader]") {
  std::string error;
  CHECK_FALSE(Model::load(VAE_TEST_FAKE_MODEL, error));
  CHECK(error.find("was built for vaec ABI version 999, but this runtime "
                   "implements version " +
                   std::to_string(VAE_ABI_VERSION)) != std::string::npos);
}

TEST_CASE("a generated model loads and describes itself", "[loader]") {
  std::string error;
  auto model = Model::load(VAE_TEST_MODEL, error);
  REQUIRE(model);
  CHECK(error.empty());
  const vae_model &d = model->desc();
  CHECK(std::string(d.name) == "mnist_vae");
  CHECK(d.batch == 7);
  CHECK(d.input_rank == 1);
  CHECK(d.input_size == 784);
  CHECK(d.latent_size == 20);
  CHECK(d.likelihood == VAE_LIKELIHOOD_BERNOULLI);
  CHECK(d.decode_outputs == 1);
  CHECK(d.num_params == 10);
  CHECK(d.arena_bytes > 0);
  const vae_param *w = model->param("encoder.h.weight");
  REQUIRE(w);
  CHECK(w->rank == 2);
  CHECK(w->shape[0] == 784);
  CHECK(w->shape[1] == 400);
  CHECK(w->offset % 16 == 0); // 64-byte aligned inside the buffer
  CHECK(w->init_bound == Approx(1.0 / 28.0));
  CHECK(model->param("decoder.logits.bias"));
  CHECK_FALSE(model->param("no.such.param"));
}
