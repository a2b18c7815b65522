//===- Lexer.h - VDL tokens -------------------------------------*- C++ -*-===//

#ifndef VAEC_FRONTEND_LEXER_H
#define VAEC_FRONTEND_LEXER_H

#include "frontend/Diagnostics.h"

#include "llvm/ADT/StringRef.h"

namespace vaec {

enum class TokenKind {
  Eof,
  Identifier,
  Number,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Semicolon,
  Colon,
  Equal,
  Plus,
  Minus,
  Star,
  Slash,
};

/// How a token is named in diagnostics: `'{'`, `identifier`, ...
llvm::StringRef spelling(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::Eof;
  llvm::StringRef text;
  llvm::SMLoc loc() const { return llvm::SMLoc::getFromPointer(text.data()); }
  bool is(TokenKind k) const { return kind == k; }
  bool isIdentifier(llvm::StringRef name) const {
    return kind == TokenKind::Identifier && text == name;
  }
};

/// Splits a buffer into tokens. Never fails: a byte that starts no token is
/// reported and skipped, so the lexer always advances and always reaches Eof.
class Lexer {
public:
  Lexer(llvm::StringRef buffer, DiagnosticEngine &diags)
      : cur(buffer.begin()), end(buffer.end()), diags(diags) {}

  Token next();

private:
  void skipWhitespaceAndComments();
  Token make(TokenKind kind, const char *start) {
    return Token{kind, llvm::StringRef(start, cur - start)};
  }

  const char *cur;
  const char *end;
  DiagnosticEngine &diags;
};

} // namespace vaec

#endif // VAEC_FRONTEND_LEXER_H
