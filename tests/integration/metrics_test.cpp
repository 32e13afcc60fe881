// A service's metrics, scraped as Prometheus would: over HTTP from a
// corps::MetricsServer, by a client nobody here wrote (Python's urllib),
// with figures that move with the traffic.
#include <gtest/gtest.h>

#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "corps/corps.hpp"
#include "corps/image.pb.h"
#include "corps/metrics_server.hpp"
#include "corps/testing/broker_test.hpp"
#include "support/run_command.hpp"

namespace {

using namespace std::chrono_literals;

// GET url, as a plain HTTP client does; the body's lines.
std::vector<std::string> scrape(const std::string& url) {
  const auto outcome = corps_tests::run_command(
      "/usr/bin/python3 -c 'import sys, urllib.request; "
      "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' " +
      url);
  EXPECT_EQ(outcome.exit_code, 0) << url;
  return outcome.lines;
}

// The largest value of the series whose text starts with `prefix`, or -1.
double largest_of(const std::vector<std::string>& lines, const std::string& prefix) {
  double largest = -1;
  for (const auto& line : lines) {
    if (line.compare(0, prefix.size(), prefix) != 0) continue;
    largest = std::max(largest, std::stod(line.substr(line.rfind(' ') + 1)));
  }
  return largest;
}

// The value of the series `series` (name and labels, as rendered), or -1.
double value_of(const std::vector<std::string>& lines, const std::string& series) {
  for (const auto& line : lines) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

class MetricsScrape : public corps::testing::BrokerTest {
 protected:
  MetricsScrape() {
    registry_.bind<corps::proto::Image>("VideoStream");
    create_topic("VideoStream", 1);
    create_topic("DeadLetters", 1);
  }

  void send_frames(corps::Producer& producer, int count) {
    for (int n = 0; n < count; ++n) {
      corps::proto::Image image;
      image.set_frame(n);
      ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
    }
  }

  std::shared_ptr<corps::Metrics> metrics_ = std::make_shared<corps::Metrics>();
};

TEST_F(MetricsScrape, APlainHttpClientReadsFiguresThatMoveWithTheTraffic) {
  corps::MetricsServer server(metrics_);
  auto producer_options = this->producer_options();
  producer_options.metrics = metrics_;
  producer_options.properties["statistics.interval.ms"] = "100";
  corps::Producer producer(registry_, producer_options);

  // A record that does not decode, then four that do.
  corps::testing::produce_raw(brokers(), "VideoStream", {{std::string("not zlib at all")}});
  send_frames(producer, 4);

  auto options = consumer_options("watched", {"VideoStream"});
  options.metrics = metrics_;
  options.dead_letters = corps::DeadLetterOptions{};
  options.retry = {.max_attempts = 2, .initial_backoff = 1ms};
  options.properties["statistics.interval.ms"] = "100";
  std::optional<corps::Consumer> consumer;
  consumer.emplace(registry_, options);
  int handled = 0;
  bool failed_once = false;
  const auto status = consumer->run([&](const corps::Record& record) {
    if (record.as<corps::proto::Image>().frame() == 1 && !failed_once) {
      failed_once = true;
      throw std::runtime_error("once");  // retried: one retry counted
    }
    if (++handled == 4) consumer->stop();
  });
  ASSERT_TRUE(status.ok()) << status.error().to_string();

  auto lines = scrape(server.url());
  const std::string produced = "{client=\"test-producer\",channel=\"VideoStream\"";
  const std::string consumed = "{client=\"watched\",channel=\"VideoStream\"";
  EXPECT_EQ(value_of(lines, "corps_records_sent_total" + produced + "}"), 4);
  EXPECT_EQ(value_of(lines, "corps_records_delivered_total" + produced + ",partition=\"0\"}"), 4);
  EXPECT_EQ(value_of(lines, "corps_encode_seconds_count" + produced + "}"), 4);
  EXPECT_EQ(value_of(lines, "corps_records_consumed_total" + consumed + ",partition=\"0\"}"), 5);
  EXPECT_EQ(value_of(lines, "corps_decode_seconds_count" + consumed + "}"), 5);
  EXPECT_EQ(value_of(lines, "corps_decode_failures_total" + consumed + ",stage=\"decompress\"}"),
            1);
  EXPECT_EQ(value_of(lines, "corps_dead_letters_total" + consumed + "}"), 1);
  EXPECT_EQ(value_of(lines, "corps_handler_retries_total" + consumed + "}"), 1);
  EXPECT_EQ(value_of(lines, "corps_producer_queue_records{client=\"test-producer\"}"), 0);
  EXPECT_GE(value_of(lines, "corps_consumer_lag" + consumed + ",partition=\"0\"}"), 0)
      << "every assigned partition has a lag";

  // More traffic: the figures follow. run() stopped the consumer for good:
  // it leaves, committing what it handled, and the group's next member,
  // counted in the same series, reads on.
  ASSERT_TRUE(consumer->close().ok());
  consumer.reset();
  send_frames(producer, 3);
  corps::Consumer next(registry_, options);
  const auto more = corps::testing::consume(next, 3);
  ASSERT_EQ(more.size(), 3u);
  lines = scrape(server.url());
  EXPECT_EQ(value_of(lines, "corps_records_sent_total" + produced + "}"), 7);
  EXPECT_EQ(value_of(lines, "corps_records_delivered_total" + produced + ",partition=\"0\"}"), 7);
  EXPECT_EQ(value_of(lines, "corps_records_consumed_total" + consumed + ",partition=\"0\"}"), 8);

  // librdkafka's statistics arrive every 100 ms here: the producer's on
  // its own, the consumer's while it polls. A watchdog, not a speed figure.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  const std::string producer_kafka = "corps_kafka_messages_sent_total{client=\"test-producer\",";
  const std::string consumer_kafka = "corps_kafka_messages_received_total{client=\"watched\",";
  while (std::chrono::steady_clock::now() < deadline &&
         (largest_of(lines, producer_kafka) < 7 || largest_of(lines, consumer_kafka) < 3)) {
    ASSERT_FALSE(next.poll(100ms).has_value()) << "nothing more was sent";
    lines = scrape(server.url());
  }
  EXPECT_GE(largest_of(lines, producer_kafka), 7);
  EXPECT_GE(largest_of(lines, consumer_kafka), 3) << "the consumer fetched three records";
  for (const std::string client : {"test-producer", "watched"}) {
    EXPECT_GE(value_of(lines, "corps_partition_queue_records{client=\"" + client +
                                  "\",channel=\"VideoStream\",partition=\"0\"}"),
              0)
        << client;
  }
}

// corps_encode_seconds is a record's stamping, serializing and compressing:
// with compression workers, the compressing is done on a worker, and is
// counted there. Its time is most of a large value's encoding, so the sum
// must be of the order of what encoding the same values takes here (half
// of it at the least, against a loaded machine); stamping and serializing
// alone measured a seventh of it.
TEST_F(MetricsScrape, EncodeTimeCountsTheCompressingDoneOnAWorker) {
  auto options = producer_options();
  options.metrics = metrics_;
  options.compression_threads = 2;
  options.handler.zlib_level = 9;
  corps::proto::Image image;
  std::string pixels(900'000, '\0');
  std::uint32_t noise = 1;
  for (auto& pixel : pixels) {
    noise = noise * 1664525U + 1013904223U;
    pixel = static_cast<char>('a' + (noise >> 28));  // 16 letters: deflates, slowly
  }
  image.set_image_data(pixels);
  constexpr int count = 3;
  {
    corps::Producer producer(registry_, options);
    for (int n = 0; n < count; ++n) ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
  }
  corps::MessageHandler handler(registry_, options.handler);
  const auto started = std::chrono::steady_clock::now();
  for (int n = 0; n < count; ++n) ASSERT_TRUE(handler.encode("VideoStream", image).ok());
  const double encoding =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::vector<std::string> lines;
  std::istringstream rendered(metrics_->render());
  for (std::string line; std::getline(rendered, line);) lines.push_back(line);
  // One producer, one channel: one series each.
  EXPECT_EQ(largest_of(lines, "corps_encode_seconds_count{"), count);
  const double counted = largest_of(lines, "corps_encode_seconds_sum{");
  std::cout << "[ encode ] counted " << counted << " s against " << encoding
            << " s encoding here\n";
  EXPECT_GT(counted, encoding / 2)
      << "counted " << counted << " s; encoding the same values here took " << encoding << " s";
}

TEST_F(MetricsScrape, TheServerAnswersOnItsPortAndRefusesOneInUse) {
  corps::MetricsServer server(metrics_);
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()) + "/metrics");
  try {
    corps::MetricsServer second(metrics_, {.port = server.port()});
    FAIL() << "two servers on one port";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(e.error().message().find(std::to_string(server.port())), std::string::npos);
  }
  EXPECT_THROW(corps::MetricsServer(nullptr), corps::Exception);
}

}  // namespace
