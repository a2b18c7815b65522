//===- Lexer.cpp - VDL tokens ---------------------------------------------===//

#include "frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"

using namespace vaec;

llvm::StringRef vaec::spelling(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Identifier:
    return "identifier";
  case TokenKind::Number:
    return "number";
  case TokenKind::LBrace:
    return "'{'";
  case TokenKind::RBrace:
    return "'}'";
  case TokenKind::LParen:
    return "'('";
  case TokenKind::RParen:
    return "')'";
  case TokenKind::LBracket:
    return "'['";
  case TokenKind::RBracket:
    return "']'";
  case TokenKind::Comma:
    return "','";
  case TokenKind::Semicolon:
    return "';'";
  case TokenKind::Colon:
    return "':'";
  case TokenKind::Equal:
    return "'='";
  case TokenKind::Plus:
    return "'+'";
  case TokenKind::Minus:
    return "'-'";
  case TokenKind::Star:
    return "'*'";
  case TokenKind::Slash:
    return "'/'";
  }
  return "token";
}

void Lexer::skipWhitespaceAndComments() {
  while (cur != end) {
    char c = *cur;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++cur;
    } else if (c == '#' || (c == '/' && cur + 1 != end && cur[1] == '/')) {
      while (cur != end && *cur != '\n')
        ++cur;
    } else {
      return;
    }
  }
}

Token Lexer::next() {
  while (true) {
    skipWhitespaceAndComments();
    const char *start = cur;
    if (cur == end)
      return Token{TokenKind::Eof, llvm::StringRef(end, 0)};
    char c = *cur++;
    if (llvm::isAlpha(c) || c == '_') {
      while (cur != end && (llvm::isAlnum(*cur) || *cur == '_'))
        ++cur;
      return make(TokenKind::Identifier, start);
    }
    if (llvm::isDigit(c) || (c == '.' && cur != end && llvm::isDigit(*cur))) {
      // digits [. digits] [e [+-] digits]; the parser converts and range-checks.
      while (cur != end && llvm::isDigit(*cur))
        ++cur;
      if (cur != end && *cur == '.') {
        ++cur;
        while (cur != end && llvm::isDigit(*cur))
          ++cur;
      }
      if (cur != end && (*cur == 'e' || *cur == 'E')) {
        const char *exponent = cur + 1;
        if (exponent != end && (*exponent == '+' || *exponent == '-'))
          ++exponent;
        if (exponent != end && llvm::isDigit(*exponent)) {
          cur = exponent;
          while (cur != end && llvm::isDigit(*cur))
            ++cur;
        }
      }
      return make(TokenKind::Number, start);
    }
    switch (c) {
    case '{':
      return make(TokenKind::LBrace, start);
    case '}':
      return make(TokenKind::RBrace, start);
    case '(':
      return make(TokenKind::LParen, start);
    case ')':
      return make(TokenKind::RParen, start);
    case '[':
      return make(TokenKind::LBracket, start);
    case ']':
      return make(TokenKind::RBracket, start);
    case ',':
      return make(TokenKind::Comma, start);
    case ';':
      return make(TokenKind::Semicolon, start);
    case ':':
      return make(TokenKind::Colon, start);
    case '=':
      return make(TokenKind::Equal, start);
    case '+':
      return make(TokenKind::Plus, start);
    case '-':
      return make(TokenKind::Minus, start);
    case '*':
      return make(TokenKind::Star, start);
    case '/':
      return make(TokenKind::Slash, start);
    default:
      break;
    }
    auto byte = static_cast<unsigned char>(c);
    if (llvm::isPrint(c))
      diags.error(llvm::SMLoc::getFromPointer(start),
                  llvm::Twine("unexpected character '") + llvm::Twine(c) + "'");
    else
      diags.error(llvm::SMLoc::getFromPointer(start), "unexpected byte 0x" +
                                                          llvm::toHex(llvm::ArrayRef(byte)) +
                                                          " (VDL source is ASCII)");
  }
}
