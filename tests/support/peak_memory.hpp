// Measures what a piece of code costs in resident memory at its peak, in a
// forked child, so the test process's own history does not blur it.
#pragma once

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>

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

/// The bytes malloc has handed out and not had back, in every arena and
/// in its own mappings: what the program holds, without what the allocator
/// keeps of memory freed (which resident memory counts too).
inline std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

/// Runs `body` while a thread samples heap_in_use() every millisecond, and
/// returns how far it rose at its peak above where it stood before;
/// nullopt if `body` returned false. A figure for bounds that the
/// allocator's keeping of freed memory would blur in resident memory.
inline std::optional<std::size_t> peak_heap_growth(const std::function<bool()>& body) {
  const std::size_t before = heap_in_use();
  std::atomic<bool> done{false};
  std::atomic<std::size_t> peak{before};
  std::thread sampler([&] {
    while (!done.load()) {
      const std::size_t now = heap_in_use();
      if (now > peak.load()) peak.store(now);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  const bool ok = body();
  done.store(true);
  sampler.join();
  if (!ok) return std::nullopt;
  return peak.load() > before ? peak.load() - before : 0;
}

}  // namespace corps_tests
