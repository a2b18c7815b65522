//===- LexerTest.cpp - VDL lexer ------------------------------------------===//

#include "FrontendFixture.h"

#include <catch2/catch.hpp>

#include <vector>

using namespace vaec;

namespace {

std::vector<Token> lexAll(test::Frontend &fe) {
  Lexer lexer(fe.text, fe.diags);
  std::vector<Token> tokens;
  for (Token tok = lexer.next();; tok = lexer.next()) {
    tokens.push_back(tok);
    if (tok.is(TokenKind::Eof))
      return tokens;
  }
}

} // namespace

TEST_CASE("lexer splits identifiers, numbers and punctuation", "[lexer]") {
  test::Frontend fe("h = relu(dense(x_1, 400)) * 1.5e-3;");
  std::vector<Token> tokens = lexAll(fe);
  std::vector<TokenKind> kinds;
  std::vector<std::string> texts;
  for (const Token &tok : tokens) {
    kinds.push_back(tok.kind);
    texts.push_back(tok.text.str());
  }
  using K = TokenKind;
  CHECK(kinds == std::vector<K>{K::Identifier, K::Equal, K::Identifier, K::LParen, K::Identifier,
                                K::LParen, K::Identifier, K::Comma, K::Number, K::RParen, K::RParen,
                                K::Star, K::Number, K::Semicolon, K::Eof});
  CHECK(texts[6] == "x_1");
  CHECK(texts[8] == "400");
  CHECK(texts[12] == "1.5e-3");
  CHECK_FALSE(fe.diags.hadError());
}

TEST_CASE("lexer skips both comment styles", "[lexer]") {
  test::Frontend fe("// line comment\nmodel # hash comment ( ;\n m");
  std::vector<Token> tokens = lexAll(fe);
  REQUIRE(tokens.size() == 3);
  CHECK(tokens[0].text == "model");
  CHECK(tokens[1].text == "m");
}

TEST_CASE("an exponent without digits is not part of the number", "[lexer]") {
  test::Frontend fe("2e x");
  std::vector<Token> tokens = lexAll(fe);
  REQUIRE(tokens.size() == 4);
  CHECK(tokens[0].text == "2");
  CHECK(tokens[1].text == "e");
}

TEST_CASE("lexer reports and skips bad bytes, and always reaches Eof", "[lexer]") {
  std::string source = "a @ b";
  source += '\0';
  source += "\xff c";
  test::Frontend fe(source);
  std::vector<Token> tokens = lexAll(fe);
  REQUIRE(tokens.size() == 4);
  CHECK(tokens[2].text == "c");
  CHECK(fe.errors() == "1:3: error: unexpected character '@'\n"
                       "1:6: error: unexpected byte 0x00 (VDL source is ASCII)\n"
                       "1:7: error: unexpected byte 0xFF (VDL source is ASCII)\n");
}

TEST_CASE("printed diagnostics show the line and a caret", "[lexer]") {
  test::Frontend fe("ok\n  $\n");
  lexAll(fe);
  CHECK(fe.output == "test.vdl:2:3: error: unexpected character '$'\n"
                     "  $\n"
                     "  ^\n");
}
