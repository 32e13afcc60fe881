#include "resources.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>

namespace corps::bench {

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

double cpu_now() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A "Name:   1234 kB" line of /proc/self/status, in MiB; negative if absent.
double status_mib(const std::string& name) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(name + ":", 0) == 0) return std::stod(line.substr(name.size() + 1)) / 1024.0;
  }
  return -1;
}

}  // namespace

void Meter::restart() {
  wall_start_ = wall_now();
  cpu_start_ = cpu_now();
}

Usage Meter::elapsed() const {
  return {wall_now() - wall_start_, cpu_now() - cpu_start_};
}

bool reset_peak_rss() {
  // "5" resets the peak resident size (VmHWM) to the current one.
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5" << std::flush;
  return static_cast<bool>(clear_refs);
}

double peak_rss_mib() {
  if (const double peak = status_mib("VmHWM"); peak >= 0) return peak;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double current_rss_mib() {
  return std::max(0.0, status_mib("VmRSS"));
}

}  // namespace corps::bench
