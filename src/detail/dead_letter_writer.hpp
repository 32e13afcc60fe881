// DeadLetterWriter: the one place dead letters are written. It owns the
// producer of the dead-letter channel, builds each letter (make_dead_letter),
// writes it truncated when it is too large for the channel, and waits for
// the broker's word: a record counts as handled only once its letter is
// safe. Used by Consumer (run(), poll()'s decode failures, dead_letter()),
// and so by every corps program that dead-letters.
#pragma once

#include <memory>
#include <string>

#include "corps/consumer.hpp"
#include "corps/producer.hpp"

namespace corps::detail {

class DeadLetterWriter {
 public:
  /// Writes for a consumer with `consumer` options, which name the letters'
  /// channel (consumer.dead_letters, required) and the cluster.
  explicit DeadLetterWriter(const ConsumerOptions& consumer);

  /// Writes `record` as failed with `error` after `attempts` tries, and
  /// waits for the broker. A letter too large for the channel is written
  /// truncated, never refused.
  Status write(const Record& record, const Error& error, int attempts);

 private:
  DeliveryReport send(const Record& record, proto::DeadLetter& letter);

  DeadLetterOptions options_;
  std::string group_;
  std::string service_;
  std::unique_ptr<Producer> producer_;
};

}  // namespace corps::detail
