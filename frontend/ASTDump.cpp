//===- ASTDump.cpp - print the VDL AST (vaec --emit=ast) ------------------===//

#include "frontend/AST.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace vaec;

namespace {

class Dumper {
public:
  Dumper(llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os) : sourceMgr(sourceMgr), os(os) {}

  void dump(const Module &module);

private:
  llvm::raw_ostream &line(unsigned indent) { return os.indent(2 * indent); }
  std::string at(llvm::SMLoc loc) {
    if (!loc.isValid())
      return "";
    auto [l, c] = sourceMgr.getLineAndColumn(loc);
    return llvm::formatv(" @{0}:{1}", l, c).str();
  }
  std::string typeSuffix(const Expr &expr) {
    if (expr.type.kind == SemaType::Unknown)
      return "";
    if (expr.type.kind == SemaType::Number && expr.getKind() == Expr::Number)
      return "";
    return " : " + expr.type.str();
  }
  void dumpExpr(const Expr &expr, unsigned indent, llvm::StringRef prefix = "");
  void dumpBlock(llvm::StringRef name, const Block &block, unsigned indent);

  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
};

void Dumper::dumpExpr(const Expr &expr, unsigned indent, llvm::StringRef prefix) {
  line(indent) << prefix;
  switch (expr.getKind()) {
  case Expr::Number:
    os << "Number " << formatNumber(llvm::cast<NumberExpr>(expr).value);
    break;
  case Expr::Name:
    os << "Name " << llvm::cast<NameExpr>(expr).name;
    break;
  case Expr::Negate:
    os << "Negate";
    break;
  case Expr::Binary:
    os << "Binary '" << llvm::cast<BinaryExpr>(expr).op << "'";
    break;
  case Expr::Call:
    os << "Call " << llvm::cast<CallExpr>(expr).callee;
    break;
  case Expr::List:
    os << "List";
    break;
  }
  os << typeSuffix(expr) << at(expr.loc) << "\n";
  if (auto *negate = llvm::dyn_cast<NegateExpr>(&expr))
    dumpExpr(*negate->operand, indent + 1);
  if (auto *binary = llvm::dyn_cast<BinaryExpr>(&expr)) {
    dumpExpr(*binary->lhs, indent + 1);
    dumpExpr(*binary->rhs, indent + 1);
  }
  if (auto *list = llvm::dyn_cast<ListExpr>(&expr))
    for (const auto &element : list->elements)
      dumpExpr(*element, indent + 1);
  if (auto *call = llvm::dyn_cast<CallExpr>(&expr))
    for (const Argument &arg : call->args)
      dumpExpr(*arg.value, indent + 1, arg.keyword.empty() ? std::string() : arg.keyword + " = ");
}

void Dumper::dumpBlock(llvm::StringRef name, const Block &block, unsigned indent) {
  line(indent) << name << "(" << block.param << ")" << at(block.loc) << "\n";
  for (const Stmt &stmt : block.stmts) {
    if (stmt.isReturn)
      line(indent + 1) << "Return" << at(stmt.loc) << "\n";
    else
      line(indent + 1) << "Assign " << stmt.name << at(stmt.loc) << "\n";
    dumpExpr(*stmt.value, indent + 2);
  }
}

void Dumper::dump(const Module &module) {
  os << "Model " << module.name << at(module.loc) << "\n";
  if (module.input) {
    line(1) << "Input " << module.input->name << " : " << module.input->elementType;
    os << "[";
    llvm::interleaveComma(module.input->shape, os);
    os << "]" << at(module.input->loc) << "\n";
  }
  if (module.latent)
    line(1) << "Latent " << module.latent->name << " : " << module.latent->size
            << at(module.latent->loc) << "\n";
  if (module.encoder)
    dumpBlock("Encoder", *module.encoder, 1);
  if (module.decoder)
    dumpBlock("Decoder", *module.decoder, 1);
  if (module.prior) {
    line(1) << "Prior" << at(module.priorLoc) << "\n";
    dumpExpr(*module.prior, 2);
  }
  for (const Param &param : module.params)
    line(1) << "Param " << param.name << " : " << shapeString(param.shape)
            << " fan_in=" << param.fanIn << at(param.loc) << "\n";
  if (module.hasTrain) {
    line(0) << "Train" << at(module.trainLoc) << "\n";
    for (const Setting &setting : module.settings) {
      line(1) << "Setting " << setting.key << at(setting.loc) << "\n";
      dumpExpr(*setting.value, 2);
    }
  }
}

} // namespace

void vaec::dumpAST(const Module &module, llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os) {
  Dumper(sourceMgr, os).dump(module);
}
