#include "support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "support/http_client.h"
#include "support/internal/socket_io.h"

extern char** environ;  // NOLINT: POSIX-defined, read only

namespace switchyard::testing {

using internal::Clock;

namespace {

// Frees posix_spawn attributes and file actions on every return path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

core::Status StartError(const std::string& exe, int err) {
  std::string msg = "cannot start '" + exe + "': " + std::strerror(err);
  return err == ENOENT ? core::NotFound(std::move(msg)) : core::Internal(std::move(msg));
}

}  // namespace

core::Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    std::string exe, std::vector<std::string> args, std::map<std::string, std::string> extra_env,
    std::string cwd) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return StartError(exe, errno);
  internal::UniqueFd read_end(pipe_fds[0]);
  internal::UniqueFd write_end(pipe_fds[1]);
  internal::UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return StartError(exe, errno);

  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (extra_env.count(name) == 0) env_strings.emplace_back(entry);
  }
  for (const auto& [name, value] : extra_env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<char*> argv;
  argv.push_back(exe.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, write_end.get(), 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions, cwd.c_str());
  // Own process group (so the destructor can kill grandchildren too), no
  // blocked signals, default dispositions for the signals tests send.
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigmask(&setup.attr, &empty_mask);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  pid_t pid = 0;
  const bool search_path = exe.find('/') == std::string::npos;
  int rc =
      search_path
          ? ::posix_spawnp(&pid, exe.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data())
          : ::posix_spawn(&pid, exe.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
  if (rc != 0) return StartError(exe, rc);
  write_end.Reset();  // the child holds the only write end now

  // The child object owns both descriptors from here on.
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, read_end.Release(), wake.Release()));
}

ChildProcess::ChildProcess(pid_t pid, int output_fd, int wake_fd)
    : pid_(pid), output_fd_(output_fd), wake_fd_(wake_fd) {
  reader_ = std::thread([this] { ReadOutput(); });
}

ChildProcess::~ChildProcess() {
  {
    std::lock_guard<std::mutex> lock(exit_mu_);
    if (!exit_code_) {
      ::kill(-pid_, SIGKILL);  // the whole group, so no grandchild keeps the pipe
      ::kill(pid_, SIGKILL);
      (void)TryReap(/*block=*/true);
    }
  }
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  reader_.join();
  ::close(output_fd_);
  ::close(wake_fd_);
}

void ChildProcess::ReadOutput() {
  char buf[8192];
  for (;;) {
    auto w = internal::WaitFd(output_fd_, POLLIN, Clock::time_point::max(), wake_fd_);
    ssize_t n = 0;
    if (w == internal::WaitResult::kReady) {
      n = ::read(output_fd_, buf, sizeof(buf));
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    }
    std::lock_guard<std::mutex> lock(out_mu_);
    if (n <= 0) {  // EOF, read error, or woken by the destructor
      output_closed_ = true;
      out_cv_.notify_all();
      return;
    }
    output_.append(buf, static_cast<std::size_t>(n));
    out_cv_.notify_all();
  }
}

std::optional<int> ChildProcess::TryReap(bool block) {
  if (exit_code_) return exit_code_;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    if (WIFEXITED(status)) {
      exit_code_ = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      exit_code_ = 128 + WTERMSIG(status);
    }
  } else if (r < 0) {
    exit_code_ = -1;  // ECHILD: someone else reaped it; nothing left to wait for
  }
  return exit_code_;
}

void ChildProcess::Signal(int sig) {
  std::lock_guard<std::mutex> lock(exit_mu_);
  if (!exit_code_) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = internal::DeadlineAfter(timeout);
  std::optional<int> code;
  auto nap = std::chrono::milliseconds(1);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(exit_mu_);
      code = TryReap(/*block=*/false);
    }
    if (code || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::min<Clock::duration>(nap, deadline - Clock::now()));
    nap = std::min(nap * 2, std::chrono::milliseconds(10));
  }
  if (!code) return std::nullopt;
  // Let the reader drain what the child wrote before it exited.
  const auto drain_deadline = std::max(deadline, Clock::now() + std::chrono::milliseconds(100));
  std::unique_lock<std::mutex> lock(out_mu_);
  out_cv_.wait_until(lock, drain_deadline, [&] { return output_closed_; });
  return code;
}

std::string ChildProcess::Output() const {
  std::lock_guard<std::mutex> lock(out_mu_);
  return output_;
}

bool ChildProcess::WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(out_mu_);
  return out_cv_.wait_for(lock, timeout, [&] {
    return output_.find(needle) != std::string::npos || output_closed_;
  }) && output_.find(needle) != std::string::npos;
}

uint16_t FreePort() {
  internal::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return ntohs(addr.sin_port);
}

bool WaitForHttpOk(uint16_t port, std::string path, std::chrono::milliseconds timeout) {
  const auto deadline = internal::DeadlineAfter(timeout);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    HttpResult r =
        HttpRequest(port, "GET", path, "", {}, std::min(left, std::chrono::milliseconds(2000)));
    if (r.status == 200) return true;
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(20), deadline - Clock::now()));
  }
}

std::string MakeTempDir(std::string_view prefix) {
  std::string path = "/tmp/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(path.data()) == nullptr) return "";
  return path;
}

}  // namespace switchyard::testing
