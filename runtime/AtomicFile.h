//===- AtomicFile.h - write a file through a temporary and a rename -*- C++ -*-===//

#ifndef VAE_RUNTIME_ATOMICFILE_H
#define VAE_RUNTIME_ATOMICFILE_H

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace vae {

/// Writes `path` by `write` into `path.tmp`, then renames it over `path`: a
/// crash at any moment leaves the old file or the new one, never a torn one.
inline bool writeAtomically(const std::string &path,
                            const std::function<void(std::ostream &)> &write, std::string &error) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    write(out);
    if (!out.flush()) {
      error = "cannot write '" + tmp + "'";
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    error = "cannot rename '" + tmp + "' to '" + path + "': " + ec.message();
    return false;
  }
  return true;
}

} // namespace vae

#endif // VAE_RUNTIME_ATOMICFILE_H
