// corps_bench: corps's typed producer and consumer against raw librdkafka
// sending the same bytes, side by side in one run, for small messages and
// for video frames; plus the codec alone. Prints a markdown table (and
// writes JSON with --json) with the ratios corps/raw. --compare-zlib-backends
// instead compares zlib with libdeflate on the same payloads, without a broker.
//
// --instructions counts instructions per record under valgrind instead
// (instructions.hpp): a measure the other core cannot move.
//
//   corps_bench [--quick] [--compare-zlib-backends] [--instructions [--callgrind-dir DIR]]
//               [--brokers HOST:PORT]
//               [--json FILE] [--small-count N] [--frame-count N] [--latency-rate N]
//               [--frame-latency-rate N] [--seconds S] [--partitions N] [--video FILE]
//               [--frame-samples N] [--zlib-level N] [--decode-threads N]
//               [--payload small|frame]...
//
// Exit codes: 0 ok; 1 the run failed (reason on stderr, e.g. records lost);
// 2 bad usage.
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "broker_process.hpp"
#include "codec_only.hpp"
#include "corps/admin.hpp"
#include "corps/codec.hpp"
#include "corps/consumer.hpp"
#include "corps/embedded_schema_registry.hpp"
#include "corps/logging.hpp"
#include "corps_client.hpp"
#include "frames.hpp"
#include "instructions.hpp"
#include "latency.hpp"
#include "payloads.hpp"
#include "progress.hpp"
#include "raw_kafka.hpp"
#include "report.hpp"
#include "resources.hpp"
#include "throughput.hpp"
#include "zlib_backends.hpp"

namespace {

using namespace corps::bench;

// The embedded broker's stand-in for Kafka's prompt fetch answers (see run()).
constexpr int embedded_fetch_wait_ms = 5;

struct Flags {
  std::string brokers;
  std::string json;
  std::size_t small_count = 200'000;
  std::size_t frame_count = 300;
  double latency_rate = 1000;
  double frame_latency_rate = 10;
  double seconds = 5;
  int partitions = 16;
  std::string video = default_video;
  std::size_t frame_samples = 16;
  std::vector<std::string> payloads{"small", "frame"};
  int zlib_level = corps::default_zlib_level;
  std::size_t zlib_store_below = corps::default_zlib_store_below;
  std::size_t uncompressed_below = corps::default_uncompressed_below;
  unsigned compression_threads = 1;
  unsigned decode_threads = corps::ConsumerOptions{}.decode_threads;
  std::string codec_name = "zlib";
  corps::Codec codec = corps::Codec::zlib;  // from codec_name, once parsed
  /// --codec confluent: values framed for a schema registry, not compressed.
  bool confluent = false;
  bool quick = false;
  bool compare_zlib_backends = false;
  bool instructions = false;
  /// --instructions: where callgrind's dumps are kept (default: a temporary
  /// directory, removed).
  std::string callgrind_dir;
  /// --instructions, in the run under valgrind: the topics the measuring
  /// process made on its embedded broker, and what their names start with.
  bool topics_exist = false;
  std::string given_topic_prefix;
  /// The command line, for the run under valgrind.
  std::vector<std::string> arguments;
  /// Set after parsing: what every topic name of this run starts with.
  std::string topic_prefix;
};

// What --quick changes, where the option was not given explicitly: a run of
// a few seconds that still goes through every measurement.
void apply_quick(CLI::App& app, Flags& flags) {
  if (!flags.quick) return;
  if (app.count("--small-count") == 0) flags.small_count = 5'000;
  if (app.count("--frame-count") == 0) flags.frame_count = 32;
  if (app.count("--seconds") == 0) flags.seconds = 1;
  if (app.count("--frame-samples") == 0) flags.frame_samples = 4;
}

// What --instructions changes, where the option was not given explicitly:
// enough records that setting up a client weighs little per record, few
// enough for valgrind (some fifty times slower) to take about a minute.
void apply_instructions(CLI::App& app, Flags& flags) {
  if (!flags.instructions) return;
  if (app.count("--small-count") == 0) flags.small_count = flags.quick ? 2'000 : 50'000;
  if (app.count("--frame-count") == 0) flags.frame_count = flags.quick ? 16 : 64;
}

// Settings that follow from the others.
void complete(Flags& flags) {
  std::vector<std::string> unique;
  for (const auto& payload : flags.payloads) {
    if (std::find(unique.begin(), unique.end(), payload) == unique.end()) unique.push_back(payload);
  }
  flags.payloads = std::move(unique);
  // A cluster may still hold an earlier run's topics; the embedded broker is
  // new each time.
  flags.topic_prefix =
      !flags.given_topic_prefix.empty() ? flags.given_topic_prefix
      : flags.brokers.empty()
          ? "corps-bench."
          : "corps-bench-" + std::to_string(::getpid()) + "-" +
                std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + ".";
}

struct Topics {
  std::string throughput;
  std::string latency;
};

Topics topics_for(const Flags& flags, const std::string& payload, const std::string& client) {
  const std::string base =
      flags.topic_prefix + payload + "." + (client == raw_client ? "raw" : "corps");
  return {base, base + ".latency"};
}

std::vector<corps::TopicSpec> every_topic(const Flags& flags) {
  std::vector<corps::TopicSpec> specs;
  for (const auto& payload : flags.payloads) {
    for (const char* client : {raw_client, corps_client}) {
      const auto topics = topics_for(flags, payload, client);
      specs.push_back({topics.throughput, flags.partitions, 1});
      specs.push_back({topics.latency, flags.partitions, 1});
    }
  }
  // --codec confluent: the registry's own topic (an embedded broker in
  // another process cannot be asked to create it).
  if (flags.confluent) specs.push_back({"_schemas", 1, 1});
  return specs;
}

std::size_t round_up(std::size_t count, int multiple) {
  const auto m = static_cast<std::size_t>(multiple);
  return (std::max<std::size_t>(count, 1) + m - 1) / m * m;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

corps::bench::proto::Row measure_client(Client& client, Payload& payload, const Flags& flags,
                                        Progress& progress) {
  const auto topics = topics_for(flags, payload.name(), client.name());
  const bool frames = payload.name() == "frame";
  reset_peak_rss();
  proto::Row row;
  row.set_payload(payload.name());
  row.set_client(client.name());
  const auto throughput = measure_throughput(
      client, payload,
      {topics.throughput, flags.partitions,
       round_up(frames ? flags.frame_count : flags.small_count, flags.partitions)},
      progress);
  *row.mutable_produce() = throughput.produce;
  *row.mutable_consume() = throughput.consume;
  *row.mutable_latency() =
      measure_latency(client, payload,
                      {topics.latency, flags.partitions,
                       frames ? flags.frame_latency_rate : flags.latency_rate, flags.seconds},
                      progress);
  row.set_peak_rss_mib(peak_rss_mib());
  return row;
}

corps::bench::proto::Row measure_codec_row(Payload& payload, const Flags& flags,
                                           Progress& progress) {
  reset_peak_rss();
  const auto codec = measure_codec(
      payload, payload.name() == "frame" ? flags.frame_count : flags.small_count, progress);
  proto::Row row;
  row.set_payload(payload.name());
  row.set_client(codec_client);
  *row.mutable_produce() = codec.encode;
  *row.mutable_consume() = codec.load;
  *row.mutable_consume_after_bomb() = codec.load_after_bomb;
  row.set_peak_rss_mib(peak_rss_mib());
  return row;
}

// How corps's handler (and so the raw baseline's values) encodes.
corps::CodecOptions codec_options(const Flags& flags) {
  corps::CodecOptions options;
  options.codec = flags.codec;
  options.zlib_level = flags.zlib_level;
  options.zlib_store_below = flags.zlib_store_below;
  options.uncompressed_below = flags.uncompressed_below;
  return options;
}

// The payloads serialized as corps serializes them, each set compressed as
// many times as the throughput runs send it.
int compare_backends(const Flags& flags) {
  std::vector<BackendSamples> sets;
  for (const auto& name : flags.payloads) {
    const bool frames = name == "frame";
    Payload payload = frames ? Payload::frames(load_frames(flags.video, flags.frame_samples),
                                               codec_options(flags))
                             : Payload::predictions(64, codec_options(flags));
    BackendSamples set{name, {}, frames ? flags.frame_count : flags.small_count};
    for (std::size_t i = 0; i < payload.samples(); ++i)
      set.messages.push_back(payload.fresh(i).SerializeAsString());
    if (frames) std::cout << "frames: " << payload.source() << "\n";
    sets.push_back(std::move(set));
  }
  compare_zlib_backends(sets, flags.zlib_level, std::cout);
  return 0;
}

// The topics a run made on a cluster of the user's, deleted when it ends,
// however it ends: a frame run leaves hundreds of megabytes otherwise.
class MadeTopics {
 public:
  explicit MadeTopics(std::string brokers) : brokers_(std::move(brokers)) {}
  ~MadeTopics() {
    if (names_.empty()) return;
    try {
      corps::AdminOptions options;
      options.brokers = brokers_;
      corps::Admin admin(options);
      for (const auto& name : names_) {
        try {
          admin.delete_topic(name);
        } catch (const corps::Exception& e) {
          std::cerr << "corps_bench: topic " << name << " left behind: " << e.what() << "\n";
        }
      }
    } catch (const corps::Exception& e) {
      std::cerr << "corps_bench: its topics are left behind: " << e.what() << "\n";
    }
  }
  MadeTopics(const MadeTopics&) = delete;
  MadeTopics& operator=(const MadeTopics&) = delete;
  void add(std::string name) { names_.push_back(std::move(name)); }

 private:
  std::string brokers_;
  std::vector<std::string> names_;
};

std::vector<Payload> make_payloads(const Flags& flags) {
  std::vector<Payload> payloads;
  for (const auto& name : flags.payloads) {
    if (name == "small") {
      payloads.push_back(Payload::predictions(64, codec_options(flags)));
    }
    if (name == "frame") {
      payloads.push_back(Payload::frames(
          load_frames(flags.video, std::min(flags.frame_samples, flags.frame_count)),
          codec_options(flags)));
    }
  }
  return payloads;
}

// The embedded broker's stand-in for Kafka's prompt fetch answers (see run()).
Properties consumer_properties_for(bool embedded) {
  Properties properties;
  if (embedded) properties["fetch.wait.max.ms"] = std::to_string(embedded_fetch_wait_ms);
  return properties;
}

// --instructions, under valgrind: each phase once, counted by callgrind.
int count_instructions_here(const Flags& flags) {
  const bool embedded = flags.topics_exist;
  MadeTopics made(embedded ? std::string() : flags.brokers);
  if (!embedded) {
    corps::AdminOptions options;
    options.brokers = flags.brokers;
    corps::Admin admin(options);
    for (const auto& topic : every_topic(flags)) {
      admin.create_topic(topic);
      made.add(topic.name);
    }
  }
  std::vector<Payload> payloads = make_payloads(flags);
  const auto properties = consumer_properties_for(embedded);
  const auto raw = make_raw_client(flags.brokers, properties);
  const auto corps =
      make_corps_client(flags.brokers, properties, flags.compression_threads, flags.decode_threads);
  count_phases(
      *raw, *corps, payloads, flags.partitions,
      [&](const Payload& payload) {
        return round_up(payload.name() == "frame" ? flags.frame_count : flags.small_count,
                        flags.partitions);
      },
      [&](const Payload& payload, const std::string& client) {
        return topics_for(flags, payload.name(), client).throughput;
      });
  return 0;
}

// --instructions: the broker here, the measuring run under valgrind.
int count_instructions(const Flags& flags) {
  if (!can_count_instructions()) {
    throw std::runtime_error(
        "this corps_bench was built without valgrind's callgrind.h, so it cannot count "
        "instructions: apt-get install valgrind, then build again");
  }
  if (under_valgrind()) return count_instructions_here(flags);
  std::optional<BrokerProcess> embedded;
  std::vector<std::string> arguments = flags.arguments;
  arguments.front() = std::filesystem::read_symlink("/proc/self/exe").string();
  if (flags.brokers.empty()) {
    embedded.emplace(every_topic(flags));
    arguments.insert(arguments.end(), {"--brokers", embedded->bootstrap_servers(), "--topics-exist",
                                       "--topic-prefix", flags.topic_prefix});
  }
  std::string directory = flags.callgrind_dir;
  const bool temporary = directory.empty();
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "corps-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("cannot make a temporary directory for callgrind's dumps");
    directory = pattern;
  } else {
    std::filesystem::create_directories(directory);
  }
  std::cerr << "corps_bench: counting instructions under valgrind (about a minute per "
               "payload)...\n";
  const int status = run_under_callgrind(arguments, directory);
  const auto counts = read_phase_counts(directory);
  if (temporary) std::filesystem::remove_all(directory);
  if (status != 0) {
    throw std::runtime_error("the run under valgrind failed (exit " + std::to_string(status) + ")");
  }
  if (counts.empty()) throw std::runtime_error("valgrind left no counts of the phases");
  print_instruction_table(
      counts,
      std::string("Broker: ") +
          (embedded ? "embedded, in a process of its own (its instructions are not counted)"
                    : flags.brokers) +
          "; " + std::to_string(flags.partitions) + " partitions; codec " +
          std::string(corps::to_string(flags.codec)) + "; librdkafka " + rd_kafka_version_str() +
          "; decode_threads " + std::to_string(flags.decode_threads) +
          ". Each phase counts every thread of the client process, from making the client to "
          "its last record (a consumer's close is left out)." +
          (temporary ? "" : " callgrind's dumps are in " + directory + "."),
      std::cout);
  return 0;
}

int run(const Flags& flags) {
  if (flags.compare_zlib_backends) return compare_backends(flags);
  if (flags.instructions) return count_instructions(flags);
  // The broker first: its child process must be forked before any thread
  // exists (OpenCV and librdkafka start threads).
  std::optional<BrokerProcess> embedded;
  MadeTopics made(flags.brokers);
  if (flags.brokers.empty()) {
    embedded.emplace(every_topic(flags));
  } else {
    corps::AdminOptions options;
    options.brokers = flags.brokers;
    corps::Admin admin(options);
    for (const auto& topic : every_topic(flags)) {
      try {
        admin.create_topic(topic);
        made.add(topic.name);
      } catch (const corps::Exception& e) {
        // A registry's topic the cluster has already is used as it is, and
        // left there.
        if (topic.name == "_schemas" &&
            e.error().kafka_error() == corps::KafkaError::topic_already_exists) {
          continue;
        }
        throw std::runtime_error(std::string(e.what()) +
                                 "; the benchmark creates its own topics, so --brokers needs a "
                                 "cluster that allows CreateTopics (not `corps broker`: run "
                                 "without --brokers to use an embedded broker)");
      }
    }
  }
  const std::string brokers = embedded ? embedded->bootstrap_servers() : flags.brokers;

  std::vector<Payload> payloads = make_payloads(flags);
  // --codec confluent: a registry of corps's own, on the run's brokers,
  // gives the values their schema id (and the corps producer its look-ups).
  std::optional<corps::EmbeddedSchemaRegistry> schema_registry;
  if (flags.confluent) {
    corps::EmbeddedSchemaRegistryOptions registry_server;
    registry_server.brokers = brokers;
    schema_registry.emplace(registry_server);
    corps::SchemaRegistryOptions registry_options;
    registry_options.url = schema_registry->url();
    auto schemas = std::make_shared<corps::SchemaRegistryClient>(std::move(registry_options));
    for (auto& payload : payloads) payload.frame_for_registry(schemas);
  }

  proto::Results results;
  auto& setup = *results.mutable_setup();
  setup.set_brokers(embedded ? "embedded (librdkafka's mock cluster, in a child process; "
                               "consumers with fetch.wait.max.ms=" +
                                   std::to_string(embedded_fetch_wait_ms) + ")"
                             : flags.brokers);
  setup.set_librdkafka_version(rd_kafka_version_str());
  setup.set_cores(std::thread::hardware_concurrency());
  setup.set_partitions(static_cast<std::uint32_t>(flags.partitions));
  setup.set_latency_seconds(flags.seconds);
  setup.set_started_at(utc_now());
  setup.set_start_rss_mib(current_rss_mib());
  setup.set_zlib_level(flags.zlib_level);
  setup.set_zlib_store_below(flags.zlib_store_below);
  setup.set_uncompressed_below(flags.uncompressed_below);
  setup.set_codec(flags.confluent ? "confluent" : std::string(corps::to_string(flags.codec)));
  setup.set_compression_threads(flags.compression_threads);
  setup.set_decode_threads(flags.decode_threads);
  for (const auto& payload : payloads) {
    auto& described = *results.add_payloads();
    described.set_name(payload.name());
    described.set_type(payload.type_name());
    described.set_source(payload.source());
    described.set_samples(static_cast<std::uint32_t>(payload.samples()));
    described.set_serialized_bytes(payload.serialized_bytes());
    described.set_value_bytes(payload.value_bytes());
  }

  // The embedded broker answers a fetch that finds no data only after the
  // consumer's whole fetch.wait.max.ms (500 ms by default), even if records
  // arrive meanwhile; Kafka answers as soon as they do. Without this, every
  // latency would measure that wait, for both clients alike.
  const Properties consumer_properties = consumer_properties_for(embedded.has_value());
  const auto raw = make_raw_client(brokers, consumer_properties);
  const auto corps = make_corps_client(brokers, consumer_properties, flags.compression_threads,
                                       flags.decode_threads);
  Progress progress(payloads.size() * 5);
  for (auto& payload : payloads) {
    *results.add_rows() = measure_client(*raw, payload, flags, progress);
    *results.add_rows() = measure_client(*corps, payload, flags, progress);
    *results.add_rows() = measure_codec_row(payload, flags, progress);
  }
  progress.finish();

  add_ratios(results);
  print_markdown(results, std::cout);
  std::cout << std::flush;
  if (!flags.json.empty()) write_json(results, flags.json);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "corps_bench: corps's typed producer and consumer against raw librdkafka sending the same "
      "bytes, for small messages and video frames"};
  app.footer("Exit codes: 0 ok; 1 the run failed (reason on stderr); 2 bad usage.");
  Flags flags;
  app.add_option("--brokers", flags.brokers,
                 "Kafka brokers HOST:PORT,... (default: an embedded broker in a child process)");
  app.add_option("--json", flags.json, "Also write the results as JSON to this file");
  app.add_flag("--quick", flags.quick, "A run of a few seconds (smaller counts, 1 s latency runs)");
  app.add_flag("--compare-zlib-backends", flags.compare_zlib_backends,
               "Only compare zlib with libdeflate (compress, decompress) on the payloads, at "
               "--zlib-level, --small-count and --frame-count times each; no broker");
  app.add_flag("--instructions", flags.instructions,
               "Count instructions per record instead, under valgrind's callgrind: raw "
               "librdkafka, the codec alone and corps, each produce and consume phase once "
               "(default counts: 50,000 small records, 64 frames; --quick: 2,000 and 16); "
               "repeatable to a fraction of a percent on a busy machine");
  app.add_option("--callgrind-dir", flags.callgrind_dir,
                 "With --instructions: keep callgrind's dumps (one per phase) in this directory, "
                 "for callgrind_annotate");
  app.add_flag("--topics-exist", flags.topics_exist)->group("");  // the run under valgrind
  app.add_option("--topic-prefix", flags.given_topic_prefix)->group("");
  app.add_option("--small-count", flags.small_count, "Small messages per client for throughput")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--frame-count", flags.frame_count, "Frames per client for throughput")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--latency-rate", flags.latency_rate,
                 "Small messages per second during the latency run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--frame-latency-rate", flags.frame_latency_rate,
                 "Frames per second during the latency run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seconds", flags.seconds, "Length of each latency run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--partitions", flags.partitions, "Partitions per topic")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--video", flags.video, "Video to take frames from")->capture_default_str();
  app.add_option("--frame-samples", flags.frame_samples, "Distinct frames cycled through")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--zlib-level", flags.zlib_level,
                 "corps's zlib level (HandlerOptions::zlib_level); -1 is zlib's default, 6, "
                 "MessageCorps's; the raw baseline sends values encoded at the same level")
      ->capture_default_str()
      ->check(CLI::Range(-1, 9));
  app.add_option("--zlib-store-below", flags.zlib_store_below,
                 "corps stores zlib values shorter than this many bytes instead of deflating "
                 "them (HandlerOptions::zlib_store_below); 0 deflates every value")
      ->capture_default_str();
  app.add_option("--uncompressed-below", flags.uncompressed_below,
                 "with --codec zstd or lz4, corps sends values shorter than this many bytes "
                 "uncompressed, under codec none (HandlerOptions::uncompressed_below); 0 "
                 "compresses every value")
      ->capture_default_str();
  app.add_option("--codec", flags.codec_name,
                 "corps's codec (HandlerOptions::codec): zlib (MessageCorps's format), none, "
                 "zstd or lz4; or confluent, a schema registry's framing (WireFormat::confluent, "
                 "an embedded registry on the run's brokers); the raw baseline sends the same "
                 "bytes")
      ->check(CLI::IsMember([] {
        auto names = corps::codec_names();
        names.emplace_back("confluent");  // a framing, not a codec: the value is not compressed
        return names;
      }()))
      ->capture_default_str();
  app.add_option("--compression-threads", flags.compression_threads,
                 "corps producer's ProducerOptions::compression_threads (1: compress on the "
                 "sending thread)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--decode-threads", flags.decode_threads,
                 "corps consumer's ConsumerOptions::decode_threads (0: decode on the polling "
                 "thread)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  app.add_option("--payload", flags.payloads, "Which payloads: small, frame (default: both)")
      ->check(CLI::IsMember({"small", "frame"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  flags.arguments.assign(argv, argv + argc);
  apply_quick(app, flags);
  apply_instructions(app, flags);
  complete(flags);
  flags.confluent = flags.codec_name == "confluent";
  // IsMember checked the name; a framed value is not compressed.
  flags.codec = flags.confluent ? corps::Codec::none : *corps::parse_codec(flags.codec_name);
  if (flags.instructions && (flags.confluent || flags.compare_zlib_backends)) {
    std::cerr << "corps_bench: --instructions counts the " << corps::codec_names_text()
              << " codecs, and not with --compare-zlib-backends\n";
    return 2;
  }
  if (std::getenv("CORPS_LOG_LEVEL") == nullptr) {
    // corps's info lines (consumers assigned, closed) would break the
    // progress line; warnings and errors still show.
    corps::logger()->set_level(spdlog::level::warn);
  }
  try {
    return run(flags);
  } catch (const std::exception& e) {
    std::cerr << "\ncorps_bench: " << e.what() << '\n';
    return 1;
  }
}
