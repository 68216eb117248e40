// Helpers for black-box tests that run real programs (e.g. the gateway binary).
//
// ChildProcess owns one child started with posix_spawn in its own process group,
// with stdin from /dev/null and stdout+stderr captured through one pipe that a
// background thread drains (so the child never blocks on a full pipe).
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

namespace switchyard::testing {

class ChildProcess {
 public:
  // Starts `exe` (searched in PATH when it has no '/') with `args` (argv[1..]),
  // the current environment plus `extra_env` (which overrides), in `cwd` (empty:
  // the current directory). Errors:
  //   NotFound  "cannot start '<exe>': No such file or directory" (ENOENT)
  //   Internal  "cannot start '<exe>': <strerror>" for any other failure.
  static core::Result<std::unique_ptr<ChildProcess>> Start(
      std::string exe, std::vector<std::string> args,
      std::map<std::string, std::string> extra_env = {}, std::string cwd = "");

  // SIGKILLs the whole process group if the child is still running, reaps it
  // and stops the output thread.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `sig` to the child (not its group); a no-op once it was reaped.
  void Signal(int sig);
  // Waits for the child to exit: its exit code, or 128+signal if a signal killed
  // it; nullopt on timeout. Once it returns a value, Output() holds everything the
  // child wrote (unless a grandchild keeps the pipe open past the timeout).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);

  std::string Output() const;  // stdout+stderr captured so far
  bool WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout);

 private:
  ChildProcess(pid_t pid, int output_fd, int wake_fd);
  void ReadOutput();
  std::optional<int> TryReap(bool block);  // requires exit_mu_

  const pid_t pid_;
  const int output_fd_;  // read end of the pipe; owned
  const int wake_fd_;    // eventfd that stops the reader; owned

  std::mutex exit_mu_;  // serialises waitpid() and kill()
  std::optional<int> exit_code_;

  mutable std::mutex out_mu_;
  std::condition_variable out_cv_;
  std::string output_;
  bool output_closed_ = false;  // the reader saw EOF (or stopped)
  std::thread reader_;
};

// Binds 127.0.0.1:0, returns the port the kernel chose and closes it (0 on
// failure). Another process could take it before you do; good enough for tests.
uint16_t FreePort();

// Polls GET <path> on 127.0.0.1:<port> until it answers 200 or `timeout` passes.
bool WaitForHttpOk(uint16_t port, std::string path, std::chrono::milliseconds timeout);

// Creates a fresh directory /tmp/<prefix>XXXXXX and returns its path ("" on
// failure). The caller removes it (e.g. std::filesystem::remove_all).
std::string MakeTempDir(std::string_view prefix);

}  // namespace switchyard::testing
