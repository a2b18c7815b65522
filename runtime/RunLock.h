//===- RunLock.h - one process at a time in a run folder -------*- C++ -*-===//
//
// vae-train's --out folder belongs to one process while it writes there:
// two trainings into one folder interleaved their metrics and left one
// model's checkpoint under the other's name (issue 34).
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_RUNLOCK_H
#define VAE_RUNTIME_RUNLOCK_H

#include <memory>
#include <string>

namespace vae {

/// An exclusive flock(2) on `DIR/.vae-train.lock`, which also records the
/// holder (its PID, host, command and start time) for the message another
/// process gets. The lock goes with the descriptor: when the holder exits,
/// however it ends (kill -9 included), the folder is free again; the file
/// stays and is harmless.
class RunLock {
public:
  /// Creates `dir` if needed and locks it for `command` ("train", "eval",
  /// ...). Fails at once, never waits: the error names the folder and the
  /// holder.
  static std::unique_ptr<RunLock> acquire(const std::string &dir, const std::string &command,
                                          std::string &error);
  ~RunLock();
  RunLock(const RunLock &) = delete;
  RunLock &operator=(const RunLock &) = delete;

  /// The lock file's name inside a run folder.
  static constexpr const char *kFileName = ".vae-train.lock";

private:
  explicit RunLock(int descriptor) : descriptor(descriptor) {}
  int descriptor;
};

} // namespace vae

#endif // VAE_RUNTIME_RUNLOCK_H
