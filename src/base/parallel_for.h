// Running independent pieces of one job on several cores: the offline
// readers decode the operations of a large ML Program this way.
//
//   ParallelFor(runs, [&](size_t run) { ... decode run `run` ... });
//
// Calls fn(0), ..., fn(count - 1), each exactly once, on the caller's thread
// and on up to count - 1 threads of a process-wide pool, and returns when all
// have returned. The pool's threads are started on first use and kept (a
// thread start costs about as much as decoding a hundred operations, and
// libraries such as the model reader are called many times per process);
// they exit with the process. fn must not throw. Calls from several threads
// at once are safe: each waits for the pool or runs its pieces itself.
//
// Idle pool threads watch for the next job for up to 250 us before they
// block, and a caller watches for the end of its job for up to 100 us: a
// wake-up through a condition variable cost 20-40 us on the development VM,
// as much as half the parallel decode of a 2,400-op model. So an idle pool
// costs up to 250 us of one core's time after each job.
//
// Why not OpenMP or oneTBB: Apple's clang ships without OpenMP, and TBB would
// add a runtime library to short-lived CLI processes for one loop.
#pragma once

#include <cstddef>
#include <functional>

namespace anepilot {

// Upper bound on the pool's size (the caller's thread comes on top).
inline constexpr unsigned kMaxPoolThreads = 7;

void ParallelFor(size_t count, const std::function<void(size_t)>& fn);

// Splits [0, n) into `parts` contiguous ranges of nearly equal length, in
// order, and calls fn(part, begin, end) for each as ParallelFor does. Callers
// that merge per-part results in part order keep the sequential order.
void ParallelForRanges(size_t n, unsigned parts, const std::function<void(size_t, size_t, size_t)>& fn);

// Threads worth using on this machine: hardware threads, at least 1, at most
// kMaxPoolThreads + 1.
unsigned UsefulThreads();

}  // namespace anepilot
