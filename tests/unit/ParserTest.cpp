//===- ParserTest.cpp - VDL parser ----------------------------------------===//

#include "FrontendFixture.h"

#include <catch2/catch.hpp>

using namespace vaec;

TEST_CASE("parser builds the model of the README", "[parser]") {
  test::Frontend fe(test::kMnistVae);
  REQUIRE(fe.parse());
  const Module &m = fe.module;
  CHECK(m.name == "mnist_vae");
  REQUIRE(m.input);
  CHECK(m.input->name == "x");
  CHECK(m.input->shape == std::vector<int64_t>{784});
  REQUIRE(m.latent);
  CHECK(m.latent->size == 20);
  REQUIRE(m.encoder);
  CHECK(m.encoder->param == "x");
  REQUIRE(m.encoder->stmts.size() == 2);
  CHECK(m.encoder->stmts[0].name == "h");
  CHECK(m.encoder->stmts[1].isReturn);
  auto *ret = llvm::dyn_cast<CallExpr>(m.encoder->stmts[1].value.get());
  REQUIRE(ret);
  CHECK(ret->callee == "normal");
  REQUIRE(ret->args.size() == 2);
  CHECK(ret->args[0].keyword == "mu");
  CHECK(ret->args[1].keyword == "logvar");
  CHECK(m.settings.size() == 5);
  CHECK(m.hasTrain);
}

TEST_CASE("binary operators follow precedence and associativity", "[parser]") {
  test::Frontend fe("model m { prior a - b * c - -d / e; }");
  REQUIRE(fe.parse());
  // ((a - (b * c)) - ((-d) / e))
  auto *top = llvm::dyn_cast<BinaryExpr>(fe.module.prior.get());
  REQUIRE(top);
  CHECK(top->op == '-');
  auto *left = llvm::dyn_cast<BinaryExpr>(top->lhs.get());
  REQUIRE(left);
  CHECK(left->op == '-');
  CHECK(llvm::isa<NameExpr>(left->lhs.get()));
  auto *product = llvm::dyn_cast<BinaryExpr>(left->rhs.get());
  REQUIRE(product);
  CHECK(product->op == '*');
  auto *quotient = llvm::dyn_cast<BinaryExpr>(top->rhs.get());
  REQUIRE(quotient);
  CHECK(quotient->op == '/');
  CHECK(llvm::isa<NegateExpr>(quotient->lhs.get()));
}

TEST_CASE("a keyword argument's name is not confused with an expression", "[parser]") {
  test::Frontend fe("model m { prior f(a + 1, b(c) * 2, k = d); }");
  REQUIRE(fe.parse());
  auto *call = llvm::dyn_cast<CallExpr>(fe.module.prior.get());
  REQUIRE(call);
  REQUIRE(call->args.size() == 3);
  CHECK(call->args[0].keyword.empty());
  CHECK(llvm::isa<BinaryExpr>(call->args[0].value.get()));
  CHECK(llvm::isa<BinaryExpr>(call->args[1].value.get()));
  CHECK(call->args[2].keyword == "k");
}

TEST_CASE("parser recovers and reports several syntax errors", "[parser]") {
  test::Frontend fe("model m {\n"
                    "  input x: f32[784]\n"
                    "  latent z: 20;\n"
                    "  encoder(x) { h = ; return relu(x) }\n"
                    "}\n");
  CHECK_FALSE(fe.parse());
  CHECK(fe.errors() == "3:3: error: expected ';' after the input declaration, found 'latent'\n"
                       "4:20: error: expected an expression, found ';'\n"
                       "4:37: error: expected ';' after the statement, found '}'\n");
}

TEST_CASE("deep nesting is an error, not a stack overflow", "[parser]") {
  std::string deep =
      "model m { prior " + std::string(100000, '(') + "1" + std::string(100000, ')') + "; }";
  test::Frontend fe(deep);
  CHECK_FALSE(fe.parse());
  CHECK(fe.errors().find("nested more than 128 levels deep") != std::string::npos);
}

TEST_CASE("a flood of errors stops the parser early", "[parser]") {
  test::Frontend fe(std::string(100000, '}'));
  CHECK_FALSE(fe.parse());
  CHECK(fe.diags.errorCount() <= Parser::kMaxErrors);
}
