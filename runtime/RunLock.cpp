//===- RunLock.cpp - one process at a time in a run folder ----------------===//

#include "runtime/RunLock.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <unistd.h>

using namespace vae;

namespace {

/// What the holder wrote into the lock file, as "process P on host H
/// (vae-train C since T)", or "another process" while it has not yet.
std::string describeHolder(int descriptor) {
  char text[512] = {};
  ssize_t got = pread(descriptor, text, sizeof(text) - 1, 0);
  std::string pid, host, command, since;
  for (const char *line = text; got > 0 && *line;) {
    const char *end = std::strchr(line, '\n');
    std::string entry(line, end ? size_t(end - line) : std::strlen(line));
    size_t eq = entry.find('=');
    std::string key = entry.substr(0, eq),
                value = eq == std::string::npos ? "" : entry.substr(eq + 1);
    if (key == "pid")
      pid = value;
    else if (key == "host")
      host = value;
    else if (key == "command")
      command = value;
    else if (key == "since")
      since = value;
    line = end ? end + 1 : line + entry.size();
  }
  if (pid.empty())
    return "another process";
  return fmt::format("process {} on host {} (vae-train {} since {})", pid, host, command, since);
}

} // namespace

std::unique_ptr<RunLock> RunLock::acquire(const std::string &dir, const std::string &command,
                                          std::string &error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string path = dir + "/" + kFileName;
  int descriptor = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (descriptor < 0) {
    error = fmt::format("cannot lock the run folder '{}': cannot open '{}': {}", dir, path,
                        std::strerror(errno));
    return nullptr;
  }
  if (flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
    int cause = errno;
    error = cause == EWOULDBLOCK
                ? fmt::format("'{}' is in use by {} (lock file '{}'): wait for it to end, or "
                              "choose another --out",
                              dir, describeHolder(descriptor), path)
                : fmt::format("cannot lock the run folder '{}' ('{}'): {}", dir, path,
                              std::strerror(cause));
    ::close(descriptor);
    return nullptr;
  }
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string record = fmt::format("pid={}\nhost={}\ncommand={}\nsince={:%Y-%m-%d %H:%M:%S}\n",
                                   getpid(), host, command, fmt::localtime(std::time(nullptr)));
  // (Best effort: the lock is the flock, the text only names its holder.)
  if (ftruncate(descriptor, 0) == 0 && pwrite(descriptor, record.data(), record.size(), 0) < 0)
    record.clear();
  return std::unique_ptr<RunLock>(new RunLock(descriptor));
}

RunLock::~RunLock() { ::close(descriptor); }
