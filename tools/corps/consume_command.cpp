// corps consume CHANNEL...: prints decoded records, kcat-style.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "commands.hpp"
#include "connection.hpp"
#include "corps/admin.hpp"
#include "corps/consumer.hpp"
#include "corps/logging.hpp"
#include "corps/shutdown.hpp"
#include "metrics_port.hpp"
#include "record_printer.hpp"

namespace corps::cli {

namespace {

struct ConsumeArgs {
  ConnectionFlags connection;
  std::vector<std::string> channels;
  std::string group;
  std::string offset;           // empty: stored with a group, else beginning
  bool from_beginning = false;  // the default; kept for kafka-console-consumer's habit
  bool from_end = false;
  std::int64_t count = 0;
  bool exit_at_end = false;
  std::string output = "json";
  std::string format;
  bool raw = false;
  int timeout_ms = 5000;
  int metrics_port = -1;  // -1: no metrics served
};

// For -e: where each assigned partition ends now, and where reading starts
// (and why there); the consumer is done when it has read every partition
// from its start to its end.
class EndOfPartitions {
 public:
  EndOfPartitions(Consumer& consumer, const ConsumerOptions& options) {
    for (const auto& partition : consumer.assignment()) {
      auto marks = consumer.watermarks(partition, std::chrono::seconds(10));
      if (!marks.ok()) throw Exception(marks.error());
      const auto [low, high] = *marks;
      std::int64_t start = options.start_from == StartFrom::earliest ? low : high;
      std::string why = options.start_from == StartFrom::earliest ? "its beginning" : "its end";
      if (options.start_offset) {
        start = *options.start_offset >= 0 ? *options.start_offset
                                           : std::max(low, high + *options.start_offset);
        why = "-o " + std::to_string(*options.start_offset);
      } else if (!options.group_id.empty()) {
        if (auto committed = consumer.committed(partition, std::chrono::seconds(10));
            committed.ok() && *committed >= 0) {
          start = *committed;
          why = "group '" + options.group_id + "''s commit";
        } else {
          why += ": group '" + options.group_id + "' has no commit there";
        }
      }
      partitions_[{partition.topic, partition.partition}] = {std::max(start, low), high,
                                                             std::move(why)};
    }
  }

  /// True once every partition was read up to its end; `read` holds the
  /// offset after the last record read of each partition.
  [[nodiscard]] bool reached(
      const std::map<std::pair<std::string, std::int32_t>, std::int64_t>& read) const {
    return std::all_of(partitions_.begin(), partitions_.end(), [&](const auto& entry) {
      const auto it = read.find(entry.first);
      const auto next =
          std::max(entry.second.next, it == read.end() ? std::int64_t{-1} : it->second);
      return next >= entry.second.end;
    });
  }

  /// Where each partition started and ended, for a consume that read
  /// nothing: "Predictions[0] from offset 5 (group 'g''s commit), its end".
  [[nodiscard]] std::string starts() const {
    std::string out;
    for (const auto& [key, progress] : partitions_) {
      if (!out.empty()) out += "; ";
      out += key.first + "[" + std::to_string(key.second) + "] from offset " +
             std::to_string(progress.next) + " (" + progress.why + "), ending at " +
             std::to_string(progress.end);
    }
    return out;
  }

 private:
  struct Progress {
    std::int64_t next;
    std::int64_t end;
    std::string why;  // why reading starts at next
  };
  std::map<std::pair<std::string, std::int32_t>, Progress> partitions_;
};

// Refuses channels whose topic does not exist: a consumer would create it on
// a broker that creates topics on demand (the embedded one does), and wait
// on it for records that never come.
void require_topics(const Connection& connection, const std::vector<std::string>& channels,
                    std::chrono::milliseconds timeout) {
  Admin admin(
      {.brokers = connection.brokers, .timeout = timeout, .properties = connection.properties});
  std::set<std::string> existing;
  for (auto& topic : admin.list_topics()) existing.insert(std::move(topic.name));
  for (const auto& channel : channels) {
    if (existing.count(channel) == 0) {
      throw Exception(Error(Errc::unknown_channel, Stage::subscribe,
                            "no topic '" + channel + "' at " + connection.brokers +
                                " (consume creates none: `corps topics create " + channel +
                                "`, or `corps broker --topic " + channel +
                                "` for the embedded broker)"));
    }
  }
}

// For channels typed by their records' corps-type headers: says once per
// channel, on stderr, why a record's type was not known and what to do.
class HeaderTypingNotes {
 public:
  explicit HeaderTypingNotes(std::vector<std::string> channels) : channels_(std::move(channels)) {}

  void explain(const Record& record) {
    if (record.error().stage() != Stage::type) return;
    if (std::find(channels_.begin(), channels_.end(), record.topic()) == channels_.end()) return;
    if (!explained_.insert(record.topic()).second) return;
    std::cerr << "corps: channel '" << record.topic()
              << "' has no type bound, so each record is decoded as the type its corps-type "
                 "header names, among corps's own types and those of --proto and "
                 "--descriptor-set; give --proto FILE for a type of your own, --type "
              << record.topic() << "=TYPE to bind one, or --raw to print the bytes\n";
  }

 private:
  std::vector<std::string> channels_;
  std::set<std::string> explained_;
};

int run_consume(ConsumeArgs& args) {
  install_shutdown_handlers();
  ConsumerOptions options;
  options.channels = args.channels;
  options.group_id = args.group;
  options.client_id = "corps-consume";
  options.connect_timeout = std::chrono::milliseconds(args.timeout_ms);
  options.signals = SignalHandling::stop;
  // A group with no commit reads from the beginning, as the library's
  // consumers do: a typed-message tool that shows nothing of what is there
  // looks broken.
  options.start_from = args.from_end ? StartFrom::latest : StartFrom::earliest;
  // Without a group there is nothing stored: read the channel whole, as kcat does.
  if (args.offset.empty()) args.offset = args.group.empty() ? "beginning" : "stored";
  if (args.offset == "stored" && args.group.empty()) {
    throw UsageError("-o stored needs a group (-G): only a group has stored offsets");
  }
  if (args.offset == "beginning") {
    options.start_from = StartFrom::earliest;
  } else if (args.offset == "end") {
    options.start_from = StartFrom::latest;
  } else if (args.offset != "stored") {
    std::size_t parsed = 0;
    try {
      options.start_offset = std::stoll(args.offset, &parsed);
    } catch (const std::exception&) {
      parsed = 0;
    }
    if (parsed == 0 || parsed != args.offset.size()) {
      throw UsageError("-o '" + args.offset + "': expected beginning, end, stored, N or -N");
    }
    if (!args.group.empty()) {
      throw UsageError("-o " + args.offset +
                       " takes no group (-G): a group resumes from its commits");
    }
  }
  const OutputFormat format = !args.format.empty()    ? OutputFormat::format_string
                              : args.output == "text" ? OutputFormat::text
                                                      : OutputFormat::json;
  auto connection =
      connect(args.connection, args.channels, args.raw ? ChannelUse::read_bytes : ChannelUse::read);
  require_topics(connection, args.channels, std::chrono::milliseconds(args.timeout_ms));
  options.brokers = connection.brokers;
  options.properties = connection.properties;
  if (args.raw) {
    // Nothing is decoded: every record comes back with its bytes.
    connection.registry = ChannelRegistry();
    options.read_unbound_channels = true;
  } else {
    options.schema_registry = connection.schemas;
  }
  for (const auto& token : RecordPrinter::unknown_tokens(args.format)) {
    logger()->warn("-f: {} means nothing and is printed as it is", token);
  }
  RecordPrinter printer(std::cout, std::cerr, format, args.format,
                        args.raw ? ValueShown::raw : ValueShown::decoded);
  HeaderTypingNotes header_typing(connection.typed_by_header);
  const auto metrics_server = serve_metrics(args.metrics_port, options.metrics);
  Consumer consumer(connection.registry, options);

  std::int64_t printed = 0;
  std::int64_t failed = 0;
  std::optional<EndOfPartitions> end;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> read;
  while (!consumer.stopped() && (args.count == 0 || printed + failed < args.count)) {
    if (args.exit_at_end) {
      if (!end && !consumer.assignment().empty()) end.emplace(consumer, options);
      if (end && end->reached(read)) break;
    }
    auto record = consumer.poll(std::chrono::milliseconds(200));
    if (!record) continue;
    auto& next = read[{record->topic(), record->partition()}];
    next = std::max(next, record->offset() + 1);
    printer.print(*record);
    if (args.raw || record->ok()) {
      ++printed;
    } else {
      ++failed;
      header_typing.explain(*record);
    }
  }
  if (printed + failed == 0) {
    // Said without -v: an empty answer is otherwise indistinguishable from
    // a broken tool.
    std::cerr << "corps: read nothing: ";
    if (end) {
      std::cerr << "every partition was already at its end: " << end->starts() << "\n";
    } else if (consumer.assignment().empty()) {
      std::string channels;
      for (const auto& channel : args.channels)
        channels += (channels.empty() ? "" : ", ") + channel;
      std::cerr << "no partition of " << channels << " was assigned to this consumer"
                << (args.group.empty()
                        ? ""
                        : " (the other members of group '" + args.group + "' hold them)")
                << "\n";
    } else {
      std::cerr << "no record arrived before the consumer stopped\n";
    }
  }
  if (!args.group.empty()) consumer.close().throw_if_error();
  logger()->info("consumed {} records, {} could not be decoded", printed, failed);
  return failed == 0 ? 0 : 3;  // with --raw nothing fails
}

}  // namespace

Command add_consume_command(CLI::App& app) {
  auto args = std::make_shared<ConsumeArgs>();
  auto* cmd = app.add_subcommand(
      "consume",
      "Print records of one or several channels, decoded with their types: a JSON object per line "
      "(for jq), protobuf text, or a kcat-style -f format. A record that does not decode is "
      "printed with its coordinates, error and raw bytes (in text, as an ERROR line on stderr), "
      "and consumption goes on. A channel with no type bound is decoded by the type each "
      "record's corps-type header names (or, with --registry, its schema id).");
  add_connection_flags(*cmd, args->connection);
  cmd->add_option("channels", args->channels, "Channels (topics) to read")->required();
  cmd->add_option("-G,--group", args->group,
                  "Consumer group: share partitions with its members and commit offsets (default: "
                  "no group, read every partition)");
  cmd->add_option("-o,--offset", args->offset,
                  "Start at: beginning, end, stored (the group's commits; where there are none, "
                  "the beginning, or the end with --from-end), N, or -N (N before the end). "
                  "Default: stored with -G, else beginning. N and -N take no group");
  auto* from_beginning =
      cmd->add_flag("--from-beginning", args->from_beginning,
                    "Without stored offsets, start at the oldest record (the default)");
  cmd->add_flag("--from-end", args->from_end,
                "Without stored offsets, start at the end: only records sent from now")
      ->excludes(from_beginning);
  cmd->add_option("-c,--count", args->count, "Exit after this many records")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("-e,--exit", args->exit_at_end, "Exit at the end of every partition");
  cmd->add_option("--output", args->output,
                  "json (one object per line) or text (protobuf text format)")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  add_metrics_port_flag(*cmd, args->metrics_port);
  cmd->add_option("--timeout", args->timeout_ms,
                  "How long to wait for a broker to answer at start, in ms")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
      "-f,--format", args->format,
      "kcat-style format, for every record: %t topic, %p partition, %o offset, %k key, %K key "
      "length, %s message (JSON; with --raw the value's bytes), %S value size, %h headers, %T "
      "timestamp, %y type, %u uuid, %i trace id, %e error (empty if it decoded), \\n, \\t, %%");
  cmd->add_flag("--raw", args->raw,
                "Decode nothing: print each record's value as it is (base64 in JSON and text, "
                "the bytes themselves for %s), on any channel, typed or not");
  return {cmd, [args] { return run_consume(*args); }};
}

}  // namespace corps::cli
