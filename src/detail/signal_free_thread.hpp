// Threads that never take a process signal.
//
// A SIGINT or SIGTERM is handled by whichever thread does not block it. In
// a corps worker the handler still raises the shutdown flag, but the
// application's own thread, blocked in a read(), would not be interrupted
// and would not see it until its read returns. librdkafka blocks every
// signal in its threads for the same reason; corps's threads do too, so the
// application's threads get them.
#pragma once

#include <signal.h>

#include <thread>
#include <utility>

namespace corps::detail {

/// A std::thread running `function` with every signal blocked.
template <typename Function>
std::thread signal_free_thread(Function&& function) {
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);  // the new thread inherits this mask
  std::thread thread(std::forward<Function>(function));
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return thread;
}

}  // namespace corps::detail
