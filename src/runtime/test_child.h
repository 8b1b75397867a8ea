// Test helper: run code in a forked child process and report how it ended.
// Used by tests whose subject really crashes (SIGSEGV, abort) or hangs.
// Under AddressSanitizer a SIGSEGV is reported by the sanitizer, which then
// exits with a non-zero code instead of dying by the signal; ChildEnd::died()
// accepts both. Fork only from a test with no other threads running.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

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
  if (WIFEXITED(status)) {
    end.exited = true;
    end.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    end.signaled = true;
    end.signal = WTERMSIG(status);
  }
  return end;
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
