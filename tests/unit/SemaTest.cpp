//===- SemaTest.cpp - VDL semantic checks ---------------------------------===//

#include "FrontendFixture.h"

#include <catch2/catch.hpp>

using namespace vaec;

TEST_CASE("Sema names parameters and infers shapes", "[sema]") {
  test::Frontend fe(test::kMnistVae);
  REQUIRE(fe.check());
  const auto &params = fe.module.params;
  REQUIRE(params.size() == 10);
  CHECK(params[0].name == "encoder.h.weight");
  CHECK(params[0].shape == std::vector<int64_t>{784, 400});
  CHECK(params[0].fanIn == 784);
  CHECK(params[1].name == "encoder.h.bias");
  CHECK(params[2].name == "encoder.mu.weight");
  CHECK(params[4].name == "encoder.logvar.weight");
  CHECK(params[6].name == "decoder.h.weight");
  CHECK(params[6].shape == std::vector<int64_t>{20, 400});
  CHECK_FALSE(params[6].inEncoder);
  CHECK(params[9].name == "decoder.logits.bias");
  CHECK(params[9].shape == std::vector<int64_t>{784});

  const Stmt &h = fe.module.encoder->stmts[0];
  CHECK(h.value->type.kind == SemaType::Tensor);
  CHECK(h.value->type.shape == std::vector<int64_t>{400});
}

TEST_CASE("Sema resolves train settings with PyTorch defaults", "[sema]") {
  std::string source = test::kMnistVae;
  source.replace(source.find("adam(lr = 1e-3)"), 15, "adam(beta2 = 0.99)");
  test::Frontend fe(source);
  REQUIRE(fe.check());
  const TrainConfig &t = fe.module.train;
  CHECK(t.optimizer == "adam");
  CHECK(t.lr == Approx(1e-3));
  CHECK(t.beta1 == Approx(0.9));
  CHECK(t.beta2 == Approx(0.99));
  CHECK(t.eps == Approx(1e-8));
  CHECK(t.batch == 128);
  CHECK(t.epochs == 10);
  CHECK(t.seed == 1);
}

TEST_CASE("the batch override replaces the file's batch", "[sema]") {
  test::Frontend fe(test::kMnistVae);
  REQUIRE(fe.parse());
  REQUIRE(analyze(fe.module, fe.diags, 7));
  CHECK(fe.module.train.batch == 7);
}

TEST_CASE("scalars fold and broadcast", "[sema]") {
  std::string source = test::kMnistVae;
  source.replace(source.find("h = relu(dense(x, 400));"), 24,
                 "k = exp(0) * 2; h = relu(dense(x, 400)) * k - 1;");
  test::Frontend fe(source);
  REQUIRE(fe.check());
  const Stmt &k = fe.module.encoder->stmts[0];
  CHECK(k.value->type.kind == SemaType::Number);
  CHECK(k.value->type.value == 2.0);
  const Stmt &h = fe.module.encoder->stmts[1];
  CHECK(h.value->type.shape == std::vector<int64_t>{400});
}

TEST_CASE("Sema reports several independent errors in one run", "[sema]") {
  std::string source = test::kMnistVae;
  source.replace(source.find("dense(h, 784)"), 13, "dense(h, 100)");
  source.replace(source.find("batch 128"), 9, "batch -4");
  source.replace(source.find("prior normal(0, 1)"), 18, "prior normal(0, 0)");
  test::Frontend fe(source);
  CHECK_FALSE(fe.check());
  CHECK(fe.diags.errorCount() == 3);
  std::string errors = fe.errors();
  CHECK(errors.find("likelihood parameter has shape f32[100] but the input "
                    "'x' is f32[784]") != std::string::npos);
  CHECK(errors.find("batch must be an integer in [1, 65536], got -4") != std::string::npos);
  CHECK(errors.find("prior standard deviation must be positive, got 0") != std::string::npos);
}

TEST_CASE("formatNumber prints the shortest exact decimal", "[sema]") {
  CHECK(formatNumber(400) == "400");
  CHECK(formatNumber(0.001) == "0.001");
  CHECK(formatNumber(-2.5) == "-2.5");
  CHECK(formatNumber(1e-8) == "1e-08");
  CHECK(formatNumber(0.1 + 0.2) == "0.30000000000000004");
}
