//===- CompileModel.h - compile a .vdl with vaec and load it ----*- C++ -*-===//

#ifndef VAEC_TESTS_REFERENCE_COMPILEMODEL_H
#define VAEC_TESTS_REFERENCE_COMPILEMODEL_H

#include "runtime/Model.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace vaec::test {

/// Runs `vaec SOURCE EXTRA -o TMP/NAME.PID.so` and loads the result; a
/// failing compile or load fails the test. (The process id in the name:
/// ctest runs test cases in parallel processes, and two that compile the
/// same model must not load each other's half-written library.) The file is
/// removed once loaded.
inline std::unique_ptr<vae::Model>
compileAndLoad(const std::string &source, const std::string &name, const std::string &extra = "") {
  std::string out =
      std::string(VAEC_TEST_TMP) + "/" + name + "." + std::to_string(getpid()) + ".so";
  std::string command = std::string(VAEC_BINARY) + " " + source + " " + extra + " -o " + out;
  REQUIRE(std::system(command.c_str()) == 0);
  std::string error;
  auto model = vae::Model::load(out, error);
  std::remove(out.c_str()); // mapped already
  INFO(error);
  REQUIRE(model);
  return model;
}

} // namespace vaec::test

#endif // VAEC_TESTS_REFERENCE_COMPILEMODEL_H
