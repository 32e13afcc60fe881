// corps top URL...: rates per channel, read from services' metrics
// endpoints (corps::MetricsServer, --metrics-port) every --interval.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "columns.hpp"
#include "commands.hpp"
#include "corps/error.hpp"
#include "corps/shutdown.hpp"

namespace corps::cli {

namespace {

struct TopArgs {
  std::vector<std::string> urls;
  double interval_s = 2.0;
  int iterations = 0;  // 0: until interrupted
};

// What one channel's series add up to, over every endpoint and client.
struct ChannelFigures {
  double sent = 0;
  double delivered = 0;
  double failed = 0;
  double consumed = 0;
  double decode_failed = 0;
  double dead_letters = 0;
  double lag = 0;
};

using Figures = std::map<std::string, ChannelFigures>;

// The channel label of a series' label text, or empty.
std::string channel_of(std::string_view labels) {
  const auto at = labels.find("channel=\"");
  if (at == std::string_view::npos) return {};
  const auto start = at + 9;
  const auto end = labels.find('"', start);
  return std::string(labels.substr(start, end - start));
}

// Adds the corps series of one scrape (Prometheus's text format) to `into`.
void add_scrape(const std::string& text, Figures& into) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto brace = line.find('{');
    const auto space = line.rfind(' ');
    if (brace == std::string::npos || space == std::string::npos || space < brace) continue;
    const std::string name = line.substr(0, brace);
    const std::string channel = channel_of(std::string_view(line).substr(brace, space - brace));
    if (channel.empty()) continue;
    double value = 0;
    try {
      value = std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      continue;
    }
    auto& figures = into[channel];
    if (name == "corps_records_sent_total") figures.sent += value;
    if (name == "corps_records_delivered_total") figures.delivered += value;
    if (name == "corps_records_failed_total") figures.failed += value;
    if (name == "corps_records_consumed_total") figures.consumed += value;
    if (name == "corps_decode_failures_total") figures.decode_failed += value;
    if (name == "corps_dead_letters_total") figures.dead_letters += value;
    if (name == "corps_consumer_lag") figures.lag += value;
  }
}

// Every endpoint's series, summed per channel. Throws corps::Exception
// naming an endpoint that does not answer.
Figures scrape_all(const std::vector<std::string>& urls) {
  Figures figures;
  for (const auto& url : urls) {
    const auto path_at =
        url.find('/', url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
    const std::string origin = path_at == std::string::npos ? url : url.substr(0, path_at);
    const std::string path = path_at == std::string::npos ? "/metrics" : url.substr(path_at);
    httplib::Client client(origin);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(5));
    const auto response = client.Get(path);
    // An endpoint, not a broker: said as such.
    if (!response) {
      throw std::runtime_error("the metrics endpoint " + url + " cannot be reached (" +
                               httplib::to_string(response.error()) +
                               " error): is a service serving its metrics there? (--metrics-port)");
    }
    if (response->status != 200) {
      throw std::runtime_error("no metrics from " + url + ": HTTP " +
                               std::to_string(response->status) +
                               " (is it a service's --metrics-port?)");
    }
    add_scrape(response->body, figures);
  }
  return figures;
}

std::string rate(double now, double before, double seconds) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << std::max(0.0, now - before) / seconds;
  return out.str();
}

std::string whole(double value) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(0) << value;
  return out.str();
}

void print_table(const Figures& now, const Figures& before, double seconds) {
  std::vector<std::vector<std::string>> rows{{"CHANNEL", "SENT/S", "DELIVERED/S", "CONSUMED/S",
                                              "FAILED", "DECODE-FAILED", "DEAD-LETTERS", "LAG"}};
  for (const auto& [channel, figures] : now) {
    const auto found = before.find(channel);
    const ChannelFigures earlier = found != before.end() ? found->second : ChannelFigures{};
    rows.push_back({channel, rate(figures.sent, earlier.sent, seconds),
                    rate(figures.delivered, earlier.delivered, seconds),
                    rate(figures.consumed, earlier.consumed, seconds), whole(figures.failed),
                    whole(figures.decode_failed), whole(figures.dead_letters), whole(figures.lag)});
  }
  print_columns(std::cout, rows);
  std::cout << std::endl;
}

int run_top(const TopArgs& args) {
  install_shutdown_handlers();
  const auto interval = std::chrono::duration<double>(args.interval_s);
  Figures before = scrape_all(args.urls);
  auto taken = std::chrono::steady_clock::now();
  for (int shown = 0; args.iterations == 0 || shown < args.iterations; ++shown) {
    const auto until =
        taken + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    while (std::chrono::steady_clock::now() < until) {
      if (shutdown_requested()) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Figures now = scrape_all(args.urls);
    const auto now_taken = std::chrono::steady_clock::now();
    print_table(now, before, std::chrono::duration<double>(now_taken - taken).count());
    before = std::move(now);
    taken = now_taken;
  }
  return 0;
}

}  // namespace

Command add_top_command(CLI::App& app) {
  auto args = std::make_shared<TopArgs>();
  auto* cmd = app.add_subcommand(
      "top",
      "Show rates per channel (sent, delivered, consumed per second; failures, dead letters and "
      "lag so far) from the metrics endpoints of running services (--metrics-port), summed "
      "over them, every --interval seconds");
  cmd->add_option("url", args->urls,
                  "Metrics endpoints, http://HOST:PORT[/metrics] (one per service)")
      ->required();
  cmd->add_option("--interval,-i", args->interval_s, "Seconds between two tables")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--iterations,-n", args->iterations,
                  "Tables to print, then exit (0: until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  return {cmd, [=] { return run_top(*args); }};
}

}  // namespace corps::cli
