// Measures what a piece of code costs in resident memory at its peak, in a
// forked child, so the test process's own history does not blur it.
#pragma once

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

namespace corps_tests {

/// False in a build with AddressSanitizer or ThreadSanitizer: ASan's
/// redzones and quarantine make each allocation cost more, and TSan's shadow
/// memory grows with what the program touches. Memory figures are measured,
/// and bounded, in the plain build.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool memory_figures_hold = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool memory_figures_hold = false;
#else
inline constexpr bool memory_figures_hold = true;
#endif
#else
inline constexpr bool memory_figures_hold = true;
#endif

/// A line of /proc/self/status, e.g. "VmRSS", in bytes; -1 if missing.
inline long proc_status_bytes(const std::string& name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(name + ":", 0) == 0) return std::stol(line.substr(name.size() + 1)) * 1024;
  }
  return -1;
}

/// Runs `body` in a forked child and returns how far its resident memory
/// rose at its peak above where it stood before `body` ran, in bytes;
/// nullopt if `body` returned false or the child did not report. Before
/// `body`, the child gives the heap it inherited but does not use back to
/// the system and resets its high-water mark, so memory the parent once
/// used cannot hide what `body` costs.
inline std::optional<std::size_t> peak_memory_growth(const std::function<bool()>& body) {
  int channel[2];
  if (pipe(channel) != 0) return std::nullopt;
  const pid_t child = fork();
  if (child < 0) return std::nullopt;
  if (child == 0) {
    close(channel[0]);
    malloc_trim(0);
    std::ofstream("/proc/self/clear_refs") << "5";  // the high-water mark := now
    const long before = proc_status_bytes("VmRSS");
    const bool ok = body();
    const long peak = proc_status_bytes("VmHWM");
    long grown = ok && before >= 0 && peak >= 0 ? peak - before : -1;
    (void)!write(channel[1], &grown, sizeof grown);
    _exit(0);
  }
  close(channel[1]);
  long grown = -1;
  const bool read_all = read(channel[0], &grown, sizeof grown) == sizeof grown;
  close(channel[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!read_all || grown < 0) return std::nullopt;
  return static_cast<std::size_t>(grown);
}

}  // namespace corps_tests
