// Compression workers (ProducerOptions::compression_threads > 1): a record
// is stamped and serialized by send(), compressed by a worker, and handed to
// librdkafka in send order; raw records wait their turn behind them.
#include <chrono>
#include <new>

#include "detail/producer_impl.hpp"

namespace corps {

// A record compressed by a worker, then produced in send order.
class Producer::Impl::CompressJob final : public detail::OrderedWorkers::Item {
 public:
  CompressJob(Impl& impl, Outgoing record) : impl_(impl), record_(std::move(record)) {}

  detail::SerializedRecord serialized;

  [[nodiscard]] const Outgoing& record() const noexcept { return record_; }

  // Reports a record that never reached the workers.
  void fail(Error error) { impl_.fail(record_, std::move(error), Sender::application); }

  // How long send() took to stamp and serialize it, for the metrics.
  double serialize_seconds = 0;

  void work(unsigned worker) override {
    serialized_bytes_ = serialized.bytes.size();
    const auto started =
        impl_.metrics ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    encoded_ = detail::RecordEncoder::finish(serialized, impl_.compressors[worker]);
    std::string().swap(serialized.bytes);  // the record's memory goes now, not at finish
    // A record's encode time is its stamping and serializing on the sending
    // thread and its compressing here.
    if (impl_.metrics && encoded_.ok()) {
      impl_.metrics->sent(
          record_.location.topic,
          serialize_seconds +
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
  }

  void finish(std::exception_ptr failure) noexcept override {
    if (failure) {
      impl_.fail(record_, failure_of(failure, Stage::encode, "compressing"), Sender::worker);
      return;
    }
    if (!encoded_.ok()) {
      impl_.fail(record_, encoded_.error(), Sender::worker);
      return;
    }
    record_.kind = Outgoing::Value::encoded;
    record_.encoded = std::move(*encoded_);
    impl_.produce(record_, Sender::worker);
  }

 private:
  // What a step threw, as the record's error. Memory is all compressing
  // asks of the system, so that is the usual cause.
  Error failure_of(const std::exception_ptr& failure, Stage stage, std::string_view doing) const {
    const std::string record = " a " + std::to_string(serialized_bytes_) + " B record";
    try {
      std::rethrow_exception(failure);
    } catch (const std::bad_alloc&) {
      return Error(Errc::too_large, stage, "out of memory " + std::string(doing) + record,
                   record_.location);
    } catch (const std::exception& e) {
      return Error(Errc::invalid_argument, stage,
                   std::string(doing) + record + " failed: " + e.what(), record_.location);
    } catch (...) {
      return Error(Errc::invalid_argument, stage,
                   std::string(doing) + record + " threw something that is not a std::exception",
                   record_.location);
    }
  }

  Impl& impl_;
  Outgoing record_;
  std::size_t serialized_bytes_ = 0;
  Result<EncodedRecord> encoded_ = Error(Errc::invalid_argument, Stage::encode, "not compressed");
};
// A raw record waiting its turn behind the records being compressed.
class Producer::Impl::InLine final : public detail::OrderedWorkers::Item {
 public:
  InLine(Impl& impl, Outgoing record) : impl_(impl), record_(std::move(record)) { record_.own(); }
  void work(unsigned) override {}
  void finish(std::exception_ptr) noexcept override { impl_.produce(record_, Sender::worker); }

 private:
  Impl& impl_;
  Outgoing record_;
};

void Producer::Impl::start_workers() {
  if (options.compression_threads <= 1) return;
  for (unsigned i = 0; i < options.compression_threads; ++i) {
    compressors.push_back(encoder.make_compressor());
  }
  // Two records per worker in flight keep every worker busy while the
  // finished ones wait their turn.
  workers = std::make_unique<detail::OrderedWorkers>(options.compression_threads,
                                                     2 * options.compression_threads + 2);
}

// Hands `item` to the workers. A delivery callback does not wait for room:
// the room may be its own record's, which cannot finish before it returns.
void Producer::Impl::submit(std::unique_ptr<detail::OrderedWorkers::Item> item) {
  workers->submit(std::move(item), in_callback()
                                       ? detail::OrderedWorkers::Admission::immediately
                                       : detail::OrderedWorkers::Admission::wait_for_room);
}

// Stamps and serializes `message` here, while it is the caller's, and leaves
// the compressing to a worker.
void Producer::Impl::compress_on_workers(std::string_view channel,
                                         google::protobuf::Message& message, Outgoing record,
                                         std::chrono::steady_clock::time_point started) {
  auto job = std::make_unique<CompressJob>(*this, std::move(record));
  const Status serialized = serialize(channel, message, job->record().options, job->serialized);
  if (!serialized.ok()) {
    job->fail(serialized.error());
    return;
  }
  if (metrics) {
    job->serialize_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  submit(std::move(job));
}

// A raw record goes behind every record the workers hold, to keep send order.
void Producer::Impl::send_in_line(Outgoing record) {
  submit(std::make_unique<InLine>(*this, std::move(record)));
}

}  // namespace corps
