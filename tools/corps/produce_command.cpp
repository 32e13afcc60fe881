// corps produce CHANNEL: reads messages as JSON or protobuf text, stamps
// them and sends them as typed records.
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "connection.hpp"
#include "corps/logging.hpp"
#include "corps/producer.hpp"
#include "corps/shutdown.hpp"
#include "message_input.hpp"
#include "metrics_port.hpp"

namespace corps::cli {

namespace {

struct ProduceArgs {
  ConnectionFlags connection;
  std::string channel;
  std::string file;
  std::string input = "json";
  bool whole = false;
  std::string key;
  std::string key_delimiter;
  std::vector<std::string> headers;
  int partition = -1;
  std::string codec = "zlib";
  bool verbose = false;
  int timeout_ms = 5000;
  int metrics_port = -1;  // -1: no metrics served
};

// True if a line opens more brackets than it closes, as the first line of a
// message spread over several lines does.
bool looks_cut_short(std::string_view line) {
  int open = 0;
  for (const char c : line) {
    if (c == '{' || c == '[') ++open;
    if (c == '}' || c == ']') --open;
  }
  return open > 0;
}

int run_produce(ProduceArgs& args) {
  // Ctrl-C ends the input, not the program: what was read is still flushed
  // and counted.
  install_shutdown_handlers();
  if (args.verbose && logger()->level() > spdlog::level::info) {
    logger()->set_level(spdlog::level::info);  // -v here is also the global -v
  }
  Headers headers;
  for (const auto& header : args.headers) {
    auto [name, value] = split_assignment(header, "-H");
    headers.push_back({name, value});
  }
  auto connection = connect(args.connection, {args.channel}, ChannelUse::write);
  const auto& binding = connection.registry.at(args.channel);
  ProducerOptions options;
  options.brokers = connection.brokers;
  options.client_id = "corps-produce";
  options.connect_timeout = std::chrono::milliseconds(args.timeout_ms);
  options.properties = connection.properties;
  options.handler.codec = *parse_codec(args.codec);  // the flag's check knows the names
  options.schema_registry.client = connection.schemas;
  const auto metrics_server = serve_metrics(args.metrics_port, options.metrics);
  Producer producer(connection.registry, options);

  std::ifstream file;
  if (!args.file.empty()) {
    file.open(args.file);
    if (!file)
      throw Exception(
          Error(Errc::invalid_argument, Stage::config, "cannot read '" + args.file + "'"));
  }
  std::istream& in = args.file.empty() ? std::cin : file;
  const std::string origin = args.file.empty() ? "stdin" : args.file;
  const InputSyntax syntax = args.input == "text" ? InputSyntax::text : InputSyntax::json;

  std::atomic<std::int64_t> delivered{0};
  std::atomic<std::int64_t> undelivered{0};
  std::int64_t refused = 0;
  bool hinted = false;
  auto send = [&](std::string text, std::int64_t line) {
    SendOptions send_options;
    send_options.headers = headers;
    if (args.partition >= 0) send_options.partition = args.partition;
    if (!args.key.empty()) send_options.key = args.key;
    if (!args.key_delimiter.empty()) {
      const auto split = text.find(args.key_delimiter);
      if (split != std::string::npos) {
        send_options.key = text.substr(0, split);
        text.erase(0, split + args.key_delimiter.size());
      }
    }
    auto message = binding.new_message();
    if (auto error = parse_message(text, syntax, *message)) {
      ++refused;
      std::cerr << "corps: " << origin << ":" << line << ": not a " << binding.type()->full_name()
                << " in " << args.input << ": " << *error << '\n';
      if (!args.whole && !hinted && looks_cut_short(text)) {
        hinted = true;
        std::cerr << "corps: (each line is one message; for one message over several lines, "
                     "give --whole)\n";
      }
      return;
    }
    producer.send(args.channel, *message, std::move(send_options),
                  [&, line](const DeliveryReport& report) {
                    if (report.ok()) {
                      ++delivered;
                      if (args.verbose) std::cout << report.location().to_string() << '\n';
                    } else {
                      ++undelivered;
                      std::cerr << "corps: " << origin << ":" << line << ": "
                                << report.error().to_string() << '\n';
                    }
                  });
  };

  if (args.whole) {
    std::stringstream text;
    text << in.rdbuf();
    send(text.str(), 1);
  } else {
    std::string text;
    for (std::int64_t line = 1; !shutdown_requested() && std::getline(in, text); ++line) {
      if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
      send(text, line);
    }
  }
  const Status flushed = producer.flush(std::chrono::seconds(60));
  if (!flushed.ok()) std::cerr << "corps: " << flushed.error().to_string() << '\n';
  if (shutdown_requested()) std::cerr << "corps: interrupted; the records read so far were sent\n";
  std::cerr << "corps: " << delivered << (delivered == 1 ? " record" : " records") << " sent to "
            << args.channel << " as " << binding.type()->full_name();
  if (refused + undelivered > 0)
    std::cerr << "; " << refused << " refused, " << undelivered << " not delivered";
  std::cerr << '\n';
  return refused + undelivered == 0 && flushed.ok() ? 0 : 3;
}

}  // namespace

Command add_produce_command(CLI::App& app) {
  auto args = std::make_shared<ProduceArgs>();
  auto* cmd = app.add_subcommand(
      "produce",
      "Send messages of a channel's type, read as JSON or protobuf text (one per line, or a whole "
      "file with --whole); each is stamped with metadata and sent as a corps record. Every record "
      "that is refused or not delivered is reported on stderr. With --registry, records are framed "
      "for the schema registry instead (magic byte, schema id, indexes; not compressed), the "
      "type's schema registered under CHANNEL-value first.");
  add_connection_flags(*cmd, args->connection);
  cmd->add_option("channel", args->channel, "The channel (topic) to send to")->required();
  cmd->add_option("-F,--file", args->file, "Read from this file instead of stdin")
      ->check(CLI::ExistingFile);
  cmd->add_option("--input", args->input, "Message syntax: json or text (protobuf text format)")
      ->check(CLI::IsMember({"json", "text"}));
  cmd->add_flag("--whole", args->whole,
                "The input is one message (e.g. multi-line text or pretty JSON)");
  cmd->add_option("-k,--key", args->key, "Key for every record");
  cmd->add_option("-K,--key-delimiter", args->key_delimiter,
                  "Each line is KEY<DELIM>MESSAGE (kcat's -K)");
  cmd->add_option("-H,--header", args->headers,
                  "A header NAME=VALUE for every record (repeatable)");
  cmd->add_option("-p,--partition", args->partition, "Send every record to this partition")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--codec", args->codec,
                  "How values are compressed: zlib (MessageCorps's format), or, for corps "
                  "readers only, none, zstd or lz4 (named in a corps-codec header; zstd and "
                  "lz4 send values under " +
                      std::to_string(default_uncompressed_below) + " bytes as none)")
      ->check(CLI::IsMember(codec_names()))
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout_ms,
                  "How long to wait for a broker to answer at start, in ms")
      ->check(CLI::PositiveNumber);
  add_metrics_port_flag(*cmd, args->metrics_port);
  cmd->add_flag(
      "-v,--verbose", args->verbose,
      "Print topic[partition]@offset of each delivered record (and log at info, as the global -v)");
  return {cmd, [args] { return run_produce(*args); }};
}

}  // namespace corps::cli
