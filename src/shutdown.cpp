#include "corps/shutdown.hpp"

#include <atomic>
#include <csignal>
#include <mutex>

namespace corps {

namespace {

volatile std::sig_atomic_t requested = 0;

extern "C" void on_shutdown_signal(int signal_number) {
  requested = 1;
  // A second signal of the same kind takes the default action, so a program
  // stuck in user code can still be interrupted.
  std::signal(signal_number, SIG_DFL);
}

void install_if_default(int signal_number) {
  struct sigaction current {};
  if (sigaction(signal_number, nullptr, &current) != 0) return;
  if (current.sa_handler != SIG_DFL) return;
  struct sigaction wanted {};
  wanted.sa_handler = on_shutdown_signal;
  sigemptyset(&wanted.sa_mask);
  sigaction(signal_number, &wanted, nullptr);
}

}  // namespace

void install_shutdown_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    install_if_default(SIGINT);
    install_if_default(SIGTERM);
  });
}

bool shutdown_requested() noexcept {
  return requested != 0;
}

void request_shutdown() noexcept {
  requested = 1;
}

void reset_shutdown() noexcept {
  requested = 0;
}

}  // namespace corps
