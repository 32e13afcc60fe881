// A client under test, behind one interface so that every measurement runs
// the same loop for both: raw librdkafka sending corps's bytes
// (raw_kafka.hpp), and corps's typed Producer and Consumer (corps_client.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delivery_tally.hpp"
#include "payloads.hpp"

namespace corps::bench {

/// The header carrying a record's sequence number in latency runs.
inline constexpr std::string_view sequence_header = "bench-seq";

/// Raw librdkafka properties.
using Properties = std::map<std::string, std::string>;

/// Whether a consumer reads each record's sequence header (latency runs
/// only, so that throughput runs do no work a plain application would not).
enum class ReadSequence { no, yes };

/// What a consumer got: enough to check that nothing was lost, and to time it.
struct Received {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::size_t value_bytes = 0;
  /// The sequence header, when asked for and present.
  std::optional<std::uint64_t> sequence;
  /// When the client took the record from librdkafka and when it had
  /// decoded it (steady clock, ns), for a client that says.
  std::optional<std::int64_t> fetched_ns;
  std::optional<std::int64_t> decoded_ns;
};

/// Sends a payload's samples to one topic.
class BenchProducer {
 public:
  virtual ~BenchProducer() = default;
  /// Sends sample `sample` to `partition`; with `sequence`, tagged with it in
  /// a header.
  virtual void send(std::size_t sample, std::int32_t partition,
                    std::optional<std::uint64_t> sequence) = 0;
  /// Waits until every record sent has its delivery report; throws
  /// std::runtime_error if one was not delivered.
  virtual void flush() = 0;
  /// The offset after the last record delivered to `partition`.
  [[nodiscard]] std::int64_t end_offset(std::int32_t partition) const {
    return tally_.end_offset(partition);
  }

 protected:
  DeliveryTally tally_;
};

/// Reads every partition of one topic, without a consumer group.
class BenchConsumer {
 public:
  virtual ~BenchConsumer() = default;
  /// The next record, or nullopt if none came within `timeout`. Throws
  /// std::runtime_error for a record that failed (in corps's case: did not
  /// decode).
  [[nodiscard]] virtual std::optional<Received> poll(std::chrono::milliseconds timeout) = 0;
};

/// Makes producers and consumers of one kind.
class Client {
 public:
  virtual ~Client() = default;
  /// "raw librdkafka" or "corps".
  [[nodiscard]] virtual std::string name() const = 0;
  /// A producer of `payload`'s samples to `topic`, connected to a broker.
  [[nodiscard]] virtual std::unique_ptr<BenchProducer> producer(Payload& payload,
                                                                const std::string& topic) = 0;
  /// A consumer of `topic`'s partitions 0..start.size()-1, partition p from
  /// offset start[p].
  [[nodiscard]] virtual std::unique_ptr<BenchConsumer> consumer(
      const Payload& payload, const std::string& topic, const std::vector<std::int64_t>& start,
      ReadSequence read_sequence) = 0;
};

}  // namespace corps::bench
