// What a soak member process does: produce numbered values, or consume them,
// writing everything it does to its journal (corps::testing::Journal, which
// survives the SIGKILL the nemesis sends).
//
// Journal lines:
//   send V K          a producer is about to send value V with key K
//   ack V P O         ... and the broker acknowledged it at partition P, offset O
//   fail V S C        ... and it was not delivered: S the persistence
//                     (not_persisted, possibly_persisted), C the error code
//   got V P O K T     a consumer handled value V of key K at partition P,
//                     offset O, at T (ms of the machine's steady clock)
//   committed P O T   a consumer saw its group's committed offset of
//                     partition P at O (the next to read), at T
//   missing P F T     a consumer was told offsets F..T of partition P were deleted
//   bad P O E         a consumer got a record it could not decode
#pragma once

#include <string>

namespace corps::soak {

/// A member's settings, from its command line.
struct MemberOptions {
  std::string brokers;
  std::string topic;
  std::string group;
  std::string journal;
  int index = 0;
  int incarnation = 0;
  double rate = 40;  ///< values per second, for a producer
  int keys = 8;      ///< keys per producer incarnation
  /// On a real Kafka cluster: the producer keeps librdkafka's five
  /// requests in flight (the embedded broker needs one, see run_producer).
  bool real_kafka = false;
};

/// Sends values until SIGTERM, then flushes. Its values are
/// index * 10^12 + incarnation * 10^9 + n, each key's in increasing order.
int run_producer(const MemberOptions& options);

/// Consumes in the soak's group until SIGTERM.
int run_consumer(const MemberOptions& options);

}  // namespace corps::soak
