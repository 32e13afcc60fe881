#include "progress.hpp"

#include <unistd.h>

#include <iostream>
#include <sstream>

namespace corps::bench {

Progress::Progress(std::size_t stages) : stages_(stages), terminal_(isatty(STDERR_FILENO) != 0) {}

Progress::~Progress() {
  finish();
}

void Progress::stage(const std::string& label, std::size_t total) {
  ++current_;
  label_ = label;
  total_ = total;
  calls_ = 0;
  last_draw_ = {};
  if (!terminal_) {
    std::cerr << "[" << current_ << "/" << stages_ << "] " << label_ << '\n';
    return;
  }
  redraw(0);
}

void Progress::redraw(std::size_t done) {
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done != total_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  std::ostringstream text;
  text << '[' << current_ << '/' << stages_ << "] " << label_ << "  " << done << '/' << total_;
  if (total_ > 0) text << "  (" << done * 100 / total_ << "%)";
  std::string line = text.str();
  const std::size_t width = line.size();
  // Spaces over what is left of a longer previous line.
  if (width < drawn_width_) line.append(drawn_width_ - width, ' ');
  drawn_width_ = width;
  std::cerr << '\r' << line << std::flush;
}

void Progress::finish() {
  if (!terminal_ || drawn_width_ == 0) return;
  std::cerr << '\r' << std::string(drawn_width_, ' ') << '\r' << std::flush;
  drawn_width_ = 0;
}

}  // namespace corps::bench
