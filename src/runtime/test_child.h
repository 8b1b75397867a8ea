// Running code or a program in a child process and reporting how it ended:
// for tests whose subject really crashes (SIGSEGV, abort) or hangs, and for
// the benchmark's app launches (bench/runtime_bench.cc), which share this
// one implementation of fork, output capture, watchdog and exit decoding.
// Under AddressSanitizer a SIGSEGV is reported by the sanitizer, which then
// exits with a non-zero code instead of dying by the signal; ChildEnd::died()
// accepts both. Fork only from a thread of a process with no other threads
// running (the child gets only the forking thread).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace anepilot::runtime::testing {

struct ChildEnd {
  bool exited = false;
  int exit_code = 0;
  bool signaled = false;
  int signal = 0;
  bool timed_out = false;  // still running at the deadline; then SIGKILLed
  // Ended abnormally: by a signal or with a non-zero exit code.
  bool died() const { return signaled || (exited && exit_code != 0); }
};

inline void DecodeWaitStatus(int status, ChildEnd& end) {
  if (WIFEXITED(status)) {
    end.exited = true;
    end.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    end.signaled = true;
    end.signal = WTERMSIG(status);
  }
}

// Runs `body` in a child; the child _exit(0)s if body returns. Waits up to
// `timeout` and SIGKILLs the child past it.
inline ChildEnd RunInChild(const std::function<void()>& body,
                           std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  ChildEnd end;
  if (pid < 0) {
    end.exited = true;
    end.exit_code = -1;
    return end;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      end.timed_out = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  DecodeWaitStatus(status, end);
  return end;
}

// A child's end plus everything it wrote to its output descriptor.
struct CapturedChild : ChildEnd {
  std::string out;
  // True when `line` (without its newline) is one whole line of `out`.
  bool Has(const std::string& line) const {
    const std::string needle = line + "\n";
    return out.rfind(needle, 0) == 0 || out.find("\n" + needle) != std::string::npos;
  }
};

// Runs `body(out_fd)` in a forked child; everything written to `out_fd` (a
// pipe) is collected until the child ends. The child _exit(0)s if body
// returns. Past `timeout` the child is SIGKILLed (timed_out), as the system
// watchdog would kill a hung app. With `silence_stderr`, the child's stderr
// goes to /dev/null (sanitizer reports of deliberate crashes, noise).
inline CapturedChild RunCapturingOutput(const std::function<void(int out_fd)>& body,
                                        std::chrono::milliseconds timeout, bool silence_stderr = true) {
  CapturedChild end;
  int fds[2];
  if (::pipe(fds) != 0) {
    end.exited = true;
    end.exit_code = -1;
    return end;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (silence_stderr) {
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, STDERR_FILENO);
    }
    body(fds[1]);
    ::_exit(0);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    end.exited = true;
    end.exit_code = -1;
    return end;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      end.timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child (and any process it forked) closed the pipe
    end.out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  DecodeWaitStatus(status, end);
  return end;
}

// Runs the program `exe` with `args` (argv[1...]), its stdout captured; see
// RunCapturingOutput. Exit code 127: the program could not be executed.
inline CapturedChild RunProgram(const std::string& exe, const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout, bool silence_stderr = true) {
  return RunCapturingOutput(
      [&](int out_fd) {
        ::dup2(out_fd, STDOUT_FILENO);
        ::close(out_fd);
        std::vector<std::string> copy = args;
        std::vector<char*> argv;
        std::string program = exe;
        argv.push_back(program.data());
        for (auto& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(program.c_str(), argv.data());
        ::_exit(127);
      },
      timeout, silence_stderr);
}

// True when built with a sanitizer that intercepts fatal signals.
constexpr bool kSanitizerHandlesSignals =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

}  // namespace anepilot::runtime::testing
