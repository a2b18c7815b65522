//===- Parser.cpp - VDL recursive-descent parser --------------------------===//
//
//   file    := (model | train)*
//   model   := 'model' ID '{' item* '}'
//   item    := 'input' ID ':' ID '[' INT (',' INT)* ']' ';'
//            | 'latent' ID ':' INT ';'
//            | ('encoder' | 'decoder') '(' ID ')' '{' stmt* '}'
//            | 'prior' expr ';'
//   stmt    := ID '=' expr ';' | 'return' expr ';'
//   train   := 'train' '{' (ID expr ';')* '}'
//   expr    := unary (('+' | '-' | '*' | '/') unary)*   (usual precedence)
//   unary   := '-' unary | primary
//   primary := NUMBER | ID | ID '(' [arg (',' arg)*] ')' | '(' expr ')'
//            | '[' expr (',' expr)* ']'
//   arg     := [ID '='] expr
//
//===----------------------------------------------------------------------===//

#include "frontend/Parser.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace vaec;
using llvm::SMLoc;

bool Parser::expect(TokenKind kind, llvm::StringRef context) {
  if (consumeIf(kind))
    return true;
  diags.error(tok.loc(),
              "expected " + spelling(kind) + " " + context + ", found " +
                  (tok.is(TokenKind::Eof) ? spelling(tok.kind).str() : "'" + tok.text.str() + "'"));
  return false;
}

bool Parser::expectIdentifier(llvm::StringRef what, std::string &name, SMLoc &loc) {
  loc = tok.loc();
  if (tok.is(TokenKind::Identifier)) {
    name = tok.text.str();
    consume();
    return true;
  }
  return expect(TokenKind::Identifier, what);
}

void Parser::recover() {
  unsigned depth = 0;
  while (!tok.is(TokenKind::Eof)) {
    if (tok.is(TokenKind::LBrace) || tok.is(TokenKind::LParen) || tok.is(TokenKind::LBracket)) {
      ++depth;
    } else if (tok.is(TokenKind::RParen) || tok.is(TokenKind::RBracket)) {
      if (depth)
        --depth;
    } else if (tok.is(TokenKind::RBrace)) {
      if (depth == 0)
        return;
      --depth;
    } else if (tok.is(TokenKind::Semicolon) && depth == 0) {
      consume();
      return;
    }
    consume();
  }
}

Module Parser::parseModule() {
  Module module;
  module.filename = filename;
  while (!tok.is(TokenKind::Eof) && !tooManyErrors()) {
    if (tok.isIdentifier("model")) {
      parseModel(module);
    } else if (tok.isIdentifier("train")) {
      parseTrain(module);
    } else {
      diags.error(tok.loc(), "expected 'model' or 'train' at top level, found '" + tok.text + "'");
      recover();
      consumeIf(TokenKind::RBrace);
    }
  }
  return module;
}

void Parser::parseModel(Module &module) {
  SMLoc loc = tok.loc();
  consume(); // model
  if (!module.name.empty()) {
    diags.error(loc, "a file holds one model; '" + module.name + "' is already defined");
    diags.note(module.loc, "first model is here");
  } else {
    module.loc = loc;
  }
  std::string name;
  SMLoc nameLoc;
  if (!expectIdentifier("after 'model'", name, nameLoc) ||
      !expect(TokenKind::LBrace, "to open the model")) {
    recover();
    return;
  }
  if (module.name.empty())
    module.name = name;
  while (!tok.is(TokenKind::RBrace) && !tok.is(TokenKind::Eof) && !tooManyErrors())
    parseModelItem(module);
  expect(TokenKind::RBrace, "to close the model");
}

void Parser::parseModelItem(Module &module) {
  SMLoc loc = tok.loc();
  if (tok.isIdentifier("input")) {
    consume();
    InputDecl input;
    input.loc = loc;
    if (!expectIdentifier("naming the input", input.name, loc) ||
        !expect(TokenKind::Colon, "after the input name") ||
        !expectIdentifier("element type (f32)", input.elementType, input.elementTypeLoc) ||
        !expect(TokenKind::LBracket, "to start the input shape"))
      return recover();
    do {
      input.dimLocs.push_back(tok.loc());
      std::optional<int64_t> dim = parseInteger("dimension");
      if (!dim)
        return recover();
      input.shape.push_back(*dim);
    } while (consumeIf(TokenKind::Comma));
    if (!expect(TokenKind::RBracket, "to end the input shape") ||
        !expect(TokenKind::Semicolon, "after the input declaration"))
      return recover();
    if (module.input) {
      diags.error(input.loc, "redefinition of the input");
      diags.note(module.input->loc, "previous definition is here");
      return;
    }
    module.input = std::move(input);
    return;
  }
  if (tok.isIdentifier("latent")) {
    consume();
    LatentDecl latent;
    latent.loc = loc;
    if (!expectIdentifier("naming the latent variable", latent.name, loc) ||
        !expect(TokenKind::Colon, "after the latent name"))
      return recover();
    latent.sizeLoc = tok.loc();
    std::optional<int64_t> size = parseInteger("latent size");
    if (!size || !expect(TokenKind::Semicolon, "after the latent declaration"))
      return recover();
    latent.size = *size;
    if (module.latent) {
      diags.error(latent.loc, "redefinition of the latent variable");
      diags.note(module.latent->loc, "previous definition is here");
      return;
    }
    module.latent = std::move(latent);
    return;
  }
  if (tok.isIdentifier("encoder") || tok.isIdentifier("decoder")) {
    bool isEncoder = tok.text == "encoder";
    std::string keyword = tok.text.str();
    consume();
    std::optional<Block> block = parseBlock(keyword);
    if (!block)
      return;
    block->loc = loc;
    std::optional<Block> &slot = isEncoder ? module.encoder : module.decoder;
    if (slot) {
      diags.error(loc, "redefinition of the " + keyword);
      diags.note(slot->loc, "previous definition is here");
      return;
    }
    slot = std::move(block);
    return;
  }
  if (tok.isIdentifier("prior")) {
    consume();
    std::unique_ptr<Expr> prior = parseExpr();
    if (!prior || !expect(TokenKind::Semicolon, "after the prior"))
      return recover();
    if (module.prior) {
      diags.error(loc, "redefinition of the prior");
      diags.note(module.priorLoc, "previous definition is here");
      return;
    }
    module.prior = std::move(prior);
    module.priorLoc = loc;
    return;
  }
  diags.error(loc, "expected 'input', 'latent', 'encoder', 'decoder' or "
                   "'prior' in a model, found '" +
                       tok.text + "'");
  recover();
}

std::optional<Block> Parser::parseBlock(llvm::StringRef keyword) {
  Block block;
  if (!expect(TokenKind::LParen, "after '" + keyword.str() + "'") ||
      !expectIdentifier("naming the " + keyword.str() + "'s argument", block.param,
                        block.paramLoc) ||
      !expect(TokenKind::RParen, "after the argument") ||
      !expect(TokenKind::LBrace, "to open the " + keyword.str())) {
    recover();
    return std::nullopt;
  }
  while (!tok.is(TokenKind::RBrace) && !tok.is(TokenKind::Eof) && !tooManyErrors()) {
    Stmt stmt;
    stmt.loc = tok.loc();
    if (tok.isIdentifier("return")) {
      consume();
      stmt.isReturn = true;
    } else {
      SMLoc nameLoc;
      if (!expectIdentifier("to start a statement", stmt.name, nameLoc) ||
          !expect(TokenKind::Equal, "after '" + stmt.name + "'")) {
        recover();
        continue;
      }
    }
    stmt.value = parseExpr();
    if (!stmt.value || !expect(TokenKind::Semicolon, "after the statement")) {
      recover();
      continue;
    }
    block.stmts.push_back(std::move(stmt));
  }
  block.endLoc = tok.loc();
  expect(TokenKind::RBrace, "to close the " + keyword.str());
  return block;
}

void Parser::parseTrain(Module &module) {
  SMLoc loc = tok.loc();
  consume(); // train
  if (module.hasTrain) {
    diags.error(loc, "redefinition of the train block");
    diags.note(module.trainLoc, "previous definition is here");
  }
  module.hasTrain = true;
  module.trainLoc = loc;
  if (!expect(TokenKind::LBrace, "after 'train'"))
    return recover();
  while (!tok.is(TokenKind::RBrace) && !tok.is(TokenKind::Eof) && !tooManyErrors()) {
    Setting setting;
    if (!expectIdentifier("naming a train setting", setting.key, setting.loc)) {
      recover();
      continue;
    }
    setting.value = parseExpr();
    if (!setting.value || !expect(TokenKind::Semicolon, "after the setting")) {
      recover();
      continue;
    }
    module.settings.push_back(std::move(setting));
  }
  expect(TokenKind::RBrace, "to close the train block");
}

std::optional<int64_t> Parser::parseInteger(llvm::StringRef what) {
  SMLoc loc = tok.loc();
  if (!tok.is(TokenKind::Number)) {
    expect(TokenKind::Number, "for the " + what.str());
    return std::nullopt;
  }
  int64_t value;
  if (tok.text.getAsInteger(10, value)) {
    diags.error(loc, what + " must be an integer below 2^63, got '" + tok.text + "'");
    consume();
    return std::nullopt;
  }
  consume();
  return value;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

std::unique_ptr<Expr> Parser::parseExpr() {
  if (nesting >= kMaxNesting) {
    diags.error(tok.loc(),
                "expression nested more than " + llvm::Twine(kMaxNesting) + " levels deep");
    return nullptr;
  }
  if (nesting == 0)
    exprNodes = 0;
  ++nesting;
  std::unique_ptr<Expr> expr = parseBinary(0);
  --nesting;
  return expr;
}

static int precedence(const Token &tok) {
  switch (tok.kind) {
  case TokenKind::Plus:
  case TokenKind::Minus:
    return 1;
  case TokenKind::Star:
  case TokenKind::Slash:
    return 2;
  default:
    return -1;
  }
}

std::unique_ptr<Expr> Parser::parseBinary(int minPrecedence) {
  return parseBinaryRest(parseUnary(), minPrecedence);
}

std::unique_ptr<Expr> Parser::parseBinaryRest(std::unique_ptr<Expr> lhs, int minPrecedence) {
  while (lhs) {
    int prec = precedence(tok);
    if (prec < minPrecedence || prec < 0)
      return lhs;
    Token op = tok;
    if (++exprNodes > kMaxOperators) {
      diags.error(op.loc(),
                  "expression has more than " + llvm::Twine(kMaxOperators) + " operators");
      return nullptr;
    }
    consume();
    std::unique_ptr<Expr> rhs = parseBinary(prec + 1);
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(op.loc(), op.text[0], std::move(lhs), std::move(rhs));
  }
  return lhs;
}

std::unique_ptr<Expr> Parser::parseUnary() {
  if (tok.is(TokenKind::Minus)) {
    SMLoc loc = tok.loc();
    consume();
    if (nesting >= kMaxNesting) {
      diags.error(loc, "expression nested more than " + llvm::Twine(kMaxNesting) + " levels deep");
      return nullptr;
    }
    ++nesting;
    std::unique_ptr<Expr> operand = parseUnary();
    --nesting;
    if (!operand)
      return nullptr;
    return std::make_unique<NegateExpr>(loc, std::move(operand));
  }
  return parsePrimary();
}

std::unique_ptr<Expr> Parser::parsePrimary() {
  Token start = tok;
  switch (tok.kind) {
  case TokenKind::Number: {
    consume();
    bool isInteger = start.text.find_first_of(".eE") == llvm::StringRef::npos;
    std::string text = start.text.str();
    errno = 0;
    double value = std::strtod(text.c_str(), nullptr);
    if (errno == ERANGE && !std::isfinite(value)) {
      diags.error(start.loc(), "number '" + start.text + "' is out of range");
      return nullptr;
    }
    if (isInteger && value > 9007199254740992.0) { // 2^53: exact in a double
      diags.error(start.loc(), "integer '" + start.text + "' is too large");
      return nullptr;
    }
    return std::make_unique<NumberExpr>(start.loc(), value, isInteger);
  }
  case TokenKind::Identifier:
    consume();
    if (tok.is(TokenKind::LParen))
      return parseCall(start);
    return std::make_unique<NameExpr>(start.loc(), start.text.str());
  case TokenKind::LParen: {
    consume();
    std::unique_ptr<Expr> inner = parseExpr();
    if (!inner || !expect(TokenKind::RParen, "to close the parenthesis"))
      return nullptr;
    return inner;
  }
  case TokenKind::LBracket: {
    consume();
    std::vector<std::unique_ptr<Expr>> elements;
    do {
      std::unique_ptr<Expr> element = parseExpr();
      if (!element)
        return nullptr;
      elements.push_back(std::move(element));
    } while (consumeIf(TokenKind::Comma));
    if (!expect(TokenKind::RBracket, "to close the list"))
      return nullptr;
    return std::make_unique<ListExpr>(start.loc(), std::move(elements));
  }
  default:
    diags.error(start.loc(), "expected an expression, found " +
                                 (start.is(TokenKind::Eof) ? spelling(start.kind).str()
                                                           : "'" + start.text.str() + "'"));
    return nullptr;
  }
}

std::unique_ptr<Expr> Parser::parseCall(Token callee) {
  consume(); // (
  if (nesting >= kMaxNesting) {
    diags.error(callee.loc(),
                "expression nested more than " + llvm::Twine(kMaxNesting) + " levels deep");
    return nullptr;
  }
  ++nesting;
  std::unique_ptr<Expr> call = parseCallArguments(callee);
  --nesting;
  return call;
}

std::unique_ptr<Expr> Parser::parseCallArguments(Token callee) {
  std::vector<Argument> args;
  bool sawKeyword = false;
  if (!tok.is(TokenKind::RParen)) {
    do {
      Argument arg;
      arg.loc = tok.loc();
      if (tok.is(TokenKind::Identifier)) {
        // `name = expr` is a keyword argument; look one token ahead.
        Token name = tok;
        consume();
        if (consumeIf(TokenKind::Equal)) {
          arg.keyword = name.text.str();
        } else {
          // Not a keyword: the identifier starts an expression.
          std::unique_ptr<Expr> first =
              tok.is(TokenKind::LParen) ? parseCall(name)
                                        : std::make_unique<NameExpr>(name.loc(), name.text.str());
          first = parseBinaryRest(std::move(first), 0);
          if (!first)
            return nullptr;
          arg.value = std::move(first);
        }
      }
      if (!arg.value) {
        arg.value = parseExpr();
        if (!arg.value)
          return nullptr;
      }
      if (arg.keyword.empty() && sawKeyword) {
        diags.error(arg.loc, "positional argument after a keyword argument");
        return nullptr;
      }
      sawKeyword |= !arg.keyword.empty();
      args.push_back(std::move(arg));
    } while (consumeIf(TokenKind::Comma));
  }
  if (!expect(TokenKind::RParen, "to close the call to '" + callee.text.str() + "'"))
    return nullptr;
  return std::make_unique<CallExpr>(callee.loc(), callee.text.str(), std::move(args));
}
