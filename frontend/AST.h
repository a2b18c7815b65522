//===- AST.h - VDL abstract syntax tree -------------------------*- C++ -*-===//
//
// The parser builds it, Sema annotates it (types, resolved builtins, parameter
// names), MLIRGen turns it into the vdl dialect. Expressions use LLVM-style
// RTTI (`llvm::dyn_cast` on a kind), as in the Toy tutorial.
//
//===----------------------------------------------------------------------===//

#ifndef VAEC_FRONTEND_AST_H
#define VAEC_FRONTEND_AST_H

#include "llvm/Support/Casting.h"
#include "llvm/Support/SMLoc.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
class SourceMgr;
} // namespace llvm

namespace vaec {

/// What an expression evaluates to, once Sema has looked at it. Tensor shapes
/// leave out the implicit batch dimension.
struct SemaType {
  enum Kind { Unknown, Error, Number, Tensor, Distribution, Shape } kind = Unknown;
  std::vector<int64_t> shape; // Tensor, Shape (a list of sizes: `[32, 7, 7]`)
  double value = 0;           // Number: every scalar is a compile-time constant
  bool isInteger = false;     // Number written without '.' or exponent
  std::string distribution;   // Distribution: "normal", "bernoulli", ...

  static SemaType error() { return {Error}; }
  static SemaType number(double v, bool integer) {
    SemaType t{Number};
    t.value = v;
    t.isInteger = integer;
    return t;
  }
  static SemaType tensor(std::vector<int64_t> shape) {
    SemaType t{Tensor};
    t.shape = std::move(shape);
    return t;
  }
  static SemaType sizes(std::vector<int64_t> shape) {
    SemaType t{Shape};
    t.shape = std::move(shape);
    return t;
  }
  bool isError() const { return kind == Error; }
  /// `f32[400]`, `number 0.5`, `normal distribution`.
  std::string str() const;
};

/// `f32[28, 28]`: a feature shape as VDL writes it.
std::string shapeString(const std::vector<int64_t> &shape);
/// Shortest round-trip decimal form: `400`, `0.001`, `1e-08`.
std::string formatNumber(double value);

class Expr {
public:
  enum Kind { Number, Name, Call, Binary, Negate, List };
  Expr(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}
  virtual ~Expr() = default;
  Kind getKind() const { return kind; }

  const Kind kind;
  llvm::SMLoc loc;
  SemaType type; // set by Sema
};

class NumberExpr : public Expr {
public:
  NumberExpr(llvm::SMLoc loc, double value, bool isInteger)
      : Expr(Number, loc), value(value), isInteger(isInteger) {}
  static bool classof(const Expr *e) { return e->kind == Number; }
  double value;
  bool isInteger;
};

class NameExpr : public Expr {
public:
  NameExpr(llvm::SMLoc loc, std::string name) : Expr(Name, loc), name(std::move(name)) {}
  static bool classof(const Expr *e) { return e->kind == Name; }
  std::string name;
};

struct Argument {
  std::string keyword; // empty for a positional argument
  llvm::SMLoc loc;
  std::unique_ptr<Expr> value;
};

class CallExpr : public Expr {
public:
  CallExpr(llvm::SMLoc loc, std::string callee, std::vector<Argument> args)
      : Expr(Call, loc), callee(std::move(callee)), args(std::move(args)) {}
  static bool classof(const Expr *e) { return e->kind == Call; }
  std::string callee;
  std::vector<Argument> args;

  // Set by Sema: arguments in the builtin's parameter order (null where the
  // default applies) and, for `dense`, the index of its weight in
  // Module::params (the bias follows it).
  std::vector<Expr *> resolved;
  std::vector<double> defaults; // parallel to `resolved`
  int paramIndex = -1;

  /// The resolved argument `i`: a pointer into `args` or null (default).
  Expr *operand(size_t i) const { return i < resolved.size() ? resolved[i] : nullptr; }
  /// The numeric value of argument `i`, whether given or defaulted.
  double number(size_t i) const { return resolved[i] ? resolved[i]->type.value : defaults[i]; }
};

class BinaryExpr : public Expr {
public:
  BinaryExpr(llvm::SMLoc loc, char op, std::unique_ptr<Expr> lhs, std::unique_ptr<Expr> rhs)
      : Expr(Binary, loc), op(op), lhs(std::move(lhs)), rhs(std::move(rhs)) {}
  static bool classof(const Expr *e) { return e->kind == Binary; }
  char op; // + - * /
  std::unique_ptr<Expr> lhs, rhs;
};

class NegateExpr : public Expr {
public:
  NegateExpr(llvm::SMLoc loc, std::unique_ptr<Expr> operand)
      : Expr(Negate, loc), operand(std::move(operand)) {}
  static bool classof(const Expr *e) { return e->kind == Negate; }
  std::unique_ptr<Expr> operand;
};

/// `[32, 7, 7]`: sizes, the shape argument of `reshape`.
class ListExpr : public Expr {
public:
  ListExpr(llvm::SMLoc loc, std::vector<std::unique_ptr<Expr>> elements)
      : Expr(List, loc), elements(std::move(elements)) {}
  static bool classof(const Expr *e) { return e->kind == List; }
  std::vector<std::unique_ptr<Expr>> elements;
};

struct Stmt {
  bool isReturn = false;
  llvm::SMLoc loc;
  std::string name; // the assigned name; empty for `return`
  std::unique_ptr<Expr> value;
};

/// `encoder(x) { ... }` or `decoder(z) { ... }`.
struct Block {
  llvm::SMLoc loc;    // the keyword
  llvm::SMLoc endLoc; // the closing brace
  std::string param;
  llvm::SMLoc paramLoc;
  std::vector<Stmt> stmts;
};

struct InputDecl {
  llvm::SMLoc loc;
  std::string name;
  std::string elementType;
  llvm::SMLoc elementTypeLoc;
  std::vector<int64_t> shape;
  std::vector<llvm::SMLoc> dimLocs;
};

struct LatentDecl {
  llvm::SMLoc loc;
  std::string name;
  int64_t size = 0;
  llvm::SMLoc sizeLoc;
};

/// One line of `train { ... }`: `batch 128;`, `optimizer adam(lr = 1e-3);`.
struct Setting {
  llvm::SMLoc loc;
  std::string key;
  std::unique_ptr<Expr> value;
};

/// A trainable tensor created by a `dense` layer.
struct Param {
  std::string name; // `encoder.h.weight`
  std::vector<int64_t> shape;
  int64_t fanIn;
  llvm::SMLoc loc;
  bool inEncoder;
};

/// Resolved `train { ... }` settings, defaults filled in (PyTorch's for Adam).
struct TrainConfig {
  std::string optimizer = "adam"; // adam, adamw, sgd
  double lr = 1e-3, momentum = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weightDecay = 0; // adamw's decoupled decay
  int64_t batch = 128, epochs = 10, warmup = 0, seed = 1;
  double beta = 1.0;
  /// `clip_grad_norm N`: the gradient's global L2 norm is clipped to N in
  /// the compiled step (0: not compiled in).
  double clipGradNorm = 0;
  /// `schedule constant|cosine|step(...)`: the learning rate per step.
  std::string schedule = "constant";
  double lrWarmup = 0, lrMin = 0, lrStepEpochs = 1, lrGamma = 0.1;
  /// `validation_split F; patience P;`: F of the training set held out,
  /// and a stop after P epochs without a better validation -ELBO.
  double valFraction = 0;
  int64_t patience = 0;
};

struct Module {
  std::string filename;
  llvm::SMLoc loc; // `model`
  std::string name;
  std::optional<InputDecl> input;
  std::optional<LatentDecl> latent;
  std::optional<Block> encoder, decoder;
  std::unique_ptr<Expr> prior;
  llvm::SMLoc priorLoc;
  bool hasTrain = false;
  llvm::SMLoc trainLoc;
  std::vector<Setting> settings;

  // Filled by Sema.
  std::vector<Param> params;
  TrainConfig train;
  double priorMean = 0, priorStd = 1;
};

/// Prints the (annotated) tree, one node a line, with `@line:col` locations.
void dumpAST(const Module &module, llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os);

} // namespace vaec

#endif // VAEC_FRONTEND_AST_H
