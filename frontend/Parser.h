//===- Parser.h - VDL recursive-descent parser ------------------*- C++ -*-===//

#ifndef VAEC_FRONTEND_PARSER_H
#define VAEC_FRONTEND_PARSER_H

#include "frontend/AST.h"
#include "frontend/Lexer.h"

namespace vaec {

/// Parses one VDL file. Syntax errors are reported to the DiagnosticEngine and
/// the parser resynchronizes at the next `;` or `}`, so one run reports
/// several errors; the returned Module is partial when errors occurred.
class Parser {
public:
  /// Deeper nesting is an error, not a stack overflow.
  static constexpr unsigned kMaxNesting = 128;
  /// Longer operator chains are an error: every later stage recurses over the
  /// tree, so its depth must stay bounded.
  static constexpr unsigned kMaxOperators = 1024;
  /// Past this many errors the rest of the file is skipped.
  static constexpr unsigned kMaxErrors = 50;

  Parser(llvm::StringRef buffer, llvm::StringRef filename, DiagnosticEngine &diags)
      : lexer(buffer, diags), diags(diags), filename(filename.str()) {
    tok = lexer.next();
  }

  Module parseModule();

private:
  // Top level.
  void parseModel(Module &module);
  void parseModelItem(Module &module);
  void parseTrain(Module &module);
  std::optional<Block> parseBlock(llvm::StringRef keyword);

  // Expressions.
  std::unique_ptr<Expr> parseExpr();
  std::unique_ptr<Expr> parseBinary(int minPrecedence);
  std::unique_ptr<Expr> parseBinaryRest(std::unique_ptr<Expr> lhs, int minPrecedence);
  std::unique_ptr<Expr> parseUnary();
  std::unique_ptr<Expr> parsePrimary();
  std::unique_ptr<Expr> parseCall(Token callee);
  std::unique_ptr<Expr> parseCallArguments(Token callee);
  std::optional<int64_t> parseInteger(llvm::StringRef what);

  // Tokens.
  void consume() { tok = lexer.next(); }
  bool consumeIf(TokenKind kind) {
    if (!tok.is(kind))
      return false;
    consume();
    return true;
  }
  /// Reports "expected X" unless the current token is `kind`.
  bool expect(TokenKind kind, llvm::StringRef context);
  bool expectIdentifier(llvm::StringRef what, std::string &name, llvm::SMLoc &loc);
  /// Skips to just past the next `;` at this nesting depth, or to the `}`
  /// that closes it (not consumed), or to Eof.
  void recover();
  bool tooManyErrors() const { return diags.errorCount() >= kMaxErrors; }

  Lexer lexer;
  DiagnosticEngine &diags;
  std::string filename;
  Token tok;
  unsigned nesting = 0;
  unsigned exprNodes = 0; // operators in the current top-level expression
};

} // namespace vaec

#endif // VAEC_FRONTEND_PARSER_H
