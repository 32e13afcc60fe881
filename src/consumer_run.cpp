// Consumer::run(): the loop that calls the application's handler for each
// record, retries it with backoff, and writes what still fails to the
// dead-letter channel; the record loop itself is in consumer.cpp.
#include <algorithm>
#include <exception>
#include <thread>

#include "corps/consumer.hpp"
#include "corps/logging.hpp"
#include "corps/trace_context.hpp"
#include "detail/consumer_impl.hpp"

namespace corps {

// Waits `wait`, in short slices so stop() and signals cut it short.
// Returns false if stopped meanwhile.
bool Consumer::Impl::sleep_unless_stopped(std::chrono::milliseconds wait) const {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (!stopped()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(50)));
  }
  return false;
}

// Calls `handle` up to retry.max_attempts times; the last failure, or
// nullopt once it returned. `attempts` says how many calls were made.
std::optional<Error> Consumer::Impl::attempt(const RecordHandler& handle, const Record& record,
                                             int& attempts) const {
  for (attempts = 1;; ++attempts) {
    std::optional<Error> failure;
    try {
      // What the handler sends continues the record's trace.
      const TraceScope scope(record);
      handle(record);
      if (metrics) metrics->retried(record.topic(), attempts - 1);
      return std::nullopt;
    } catch (const std::exception& e) {
      failure.emplace(Errc::handler_failed, Stage::handler, e.what(), record.location());
    } catch (...) {
      failure.emplace(Errc::handler_failed, Stage::handler,
                      "the handler threw something that is not a std::exception",
                      record.location());
    }
    logger()->warn("handler failed on {} (attempt {} of {}): {}", record.location().to_string(),
                   attempts, options.retry.max_attempts, failure->message());
    if (attempts >= options.retry.max_attempts ||
        !sleep_unless_stopped(options.retry.backoff_before(attempts + 1))) {
      if (metrics) metrics->retried(record.topic(), attempts - 1);
      return failure;
    }
  }
}

Status Consumer::run(const RecordHandler& handle) {
  Impl& impl = *impl_;
  // Gives up on `record` for now: it stays uncommitted and is fetched again.
  const auto keep = [&impl](const Record& record, const Error& error) -> Status {
    impl.rewind(record.location());
    Error kept(error.code(), error.stage(),
               error.message() + "; the record stays uncommitted and will be delivered again",
               record.location(), error.kafka_error());
    kept.set_severity(error.severity());
    return kept;
  };
  while (!impl.closed && !impl.stopped()) {
    auto record = impl.next(std::chrono::milliseconds(500));
    if (!record) continue;
    if (!record->ok()) {
      const Error& error = record->error();
      if (impl.last_dead_lettered) continue;
      if (error.stage() == Stage::dead_letter) {
        // Already rewound; try again after a pause unless it cannot work.
        if (!error.retriable()) return error;
        (void)impl.sleep_unless_stopped(impl.options.retry.max_backoff);
        continue;
      }
      if (error.stage() == Stage::consume) {
        // No record to hand over: a gap the broker made (already logged) or
        // a client error it recovers from.
        if (error.severity() == Severity::fatal) return error;
        // (Gaps and records too large to fetch were logged when found.)
        if (error.code() != Errc::records_missing && error.code() != Errc::too_large) {
          logger()->error("{}", error.to_string());
        }
        continue;
      }
      return keep(*record, Error(error.code(), error.stage(),
                                 error.message() + "; no dead-letter channel is configured "
                                                   "(ConsumerOptions::dead_letters)",
                                 record->location(), error.kafka_error()));
    }
    int attempts = 0;
    const auto failure = impl.attempt(handle, *record, attempts);
    if (!failure) continue;
    if (impl.stopped()) {
      // Stopped between attempts: unhandled, so delivered again.
      impl.rewind(record->location());
      return {};
    }
    if (!impl.letters) {
      return keep(*record, Error(failure->code(), failure->stage(),
                                 failure->message() + " (after " + std::to_string(attempts) +
                                     " attempts; no dead-letter channel is configured)",
                                 record->location()));
    }
    const Status written = impl.write_dead_letter(*record, *failure, attempts);
    if (!written.ok()) {
      logger()->error("{}", written.error().to_string());
      if (!written.error().retriable()) return keep(*record, written.error());
      impl.rewind(record->location());
      (void)impl.sleep_unless_stopped(impl.options.retry.max_backoff);
    }
  }
  return {};
}

}  // namespace corps
