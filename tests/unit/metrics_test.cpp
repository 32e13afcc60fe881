// Metrics in Prometheus's text format: what a scraper parses, in an order
// that does not change between renders.
#include "corps/metrics.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "corps/consumer.hpp"
#include "corps/error.hpp"
#include "detail/client_metrics.hpp"

namespace {

TEST(Metrics, RendersCountersAndGaugesWithHelpTypeAndLabels) {
  corps::Metrics metrics;
  metrics.counter("corps_records_sent_total", "Records sent", {{"channel", "VideoStream"}}).add(3);
  metrics
      .counter("corps_records_sent_total", "ignored: the first help stays",
               {{"channel", "Predictions"}})
      .add();
  metrics.gauge("corps_lag", "Lag").set(2.5);
  EXPECT_EQ(metrics.render(),
            "# HELP corps_lag Lag\n"
            "# TYPE corps_lag gauge\n"
            "corps_lag 2.5\n"
            "# HELP corps_records_sent_total Records sent\n"
            "# TYPE corps_records_sent_total counter\n"
            "corps_records_sent_total{channel=\"Predictions\"} 1\n"
            "corps_records_sent_total{channel=\"VideoStream\"} 3\n");
}

TEST(Metrics, TheSameNameAndLabelsAreTheSameSeries) {
  corps::Metrics metrics;
  auto& first = metrics.counter("c_total", "c", {{"a", "1"}});
  auto& again = metrics.counter("c_total", "c", {{"a", "1"}});
  EXPECT_EQ(&first, &again);
  EXPECT_NE(&first, &metrics.counter("c_total", "c", {{"a", "2"}}));
}

TEST(Metrics, LabelValuesAreEscapedAsTheTextFormatSays) {
  corps::Metrics metrics;
  metrics.counter("c_total", "c", {{"topic", "a\"b\\c\nd"}}).add();
  EXPECT_NE(metrics.render().find("c_total{topic=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos)
      << metrics.render();
}

TEST(Metrics, AHistogramHasCumulativeBucketsASumAndACount) {
  corps::Metrics metrics;
  auto& histogram = metrics.histogram("t_seconds", "t", {{"channel", "x"}});
  histogram.observe(0.0000005);  // in the first bucket (1 µs)
  histogram.observe(0.003);      // 5 ms
  histogram.observe(100);        // past the last bound: +Inf only
  const auto text = metrics.render();
  EXPECT_NE(text.find("# TYPE t_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{channel=\"x\",le=\"1e-06\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("t_seconds_bucket{channel=\"x\",le=\"0.0025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{channel=\"x\",le=\"0.005\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{channel=\"x\",le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{channel=\"x\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_count{channel=\"x\"} 3\n"), std::string::npos);
  EXPECT_NEAR(histogram.sum(), 100.0030005, 1e-6);
}

TEST(Metrics, RefusesNamesPrometheusRefusesAndAKindChange) {
  corps::Metrics metrics;
  EXPECT_THROW((void)metrics.counter("9lives", "x"), corps::Exception);
  EXPECT_THROW((void)metrics.counter("with-dash", "x"), corps::Exception);
  EXPECT_THROW((void)metrics.counter("", "x"), corps::Exception);
  (void)metrics.counter("taken", "x");
  try {
    (void)metrics.gauge("taken", "x");
    FAIL() << "a counter became a gauge";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(e.error().message().find("another kind"), std::string::npos);
  }
}

TEST(Metrics, ASeriesRemovedLeavesTheRenderAndItsMetricWithItsLastSeries) {
  corps::Metrics metrics;
  metrics.gauge("lag", "Lag", {{"partition", "0"}}).set(5);
  metrics.gauge("lag", "Lag", {{"partition", "1"}}).set(7);
  EXPECT_TRUE(metrics.remove("lag", {{"partition", "0"}}));
  EXPECT_FALSE(metrics.remove("lag", {{"partition", "0"}}));
  EXPECT_FALSE(metrics.remove("nothing", {}));
  EXPECT_EQ(metrics.render(),
            "# HELP lag Lag\n"
            "# TYPE lag gauge\n"
            "lag{partition=\"1\"} 7\n");
  EXPECT_TRUE(metrics.remove("lag", {{"partition", "1"}}));
  EXPECT_EQ(metrics.render(), "");
  // Made again on its next use, from zero.
  metrics.gauge("lag", "Lag", {{"partition", "0"}}).set(1);
  EXPECT_EQ(metrics.render(),
            "# HELP lag Lag\n"
            "# TYPE lag gauge\n"
            "lag{partition=\"0\"} 1\n");
}

// A consumer's lag is the lag of what it reads now: a partition a
// rebalance took away, or every partition once it is closed, is no longer
// reported at its last value.
TEST(Metrics, AConsumersLagIsOfThePartitionsItReadsNow) {
  auto metrics = std::make_shared<corps::Metrics>();
  corps::detail::ConsumerMetrics consumer(metrics, "group");
  const auto lag_of = [](std::int32_t partition, std::int64_t lag) {
    corps::PartitionLag out;
    out.partition = {"Predictions", partition};
    out.lag = lag;
    return out;
  };
  consumer.lag({lag_of(0, 3), lag_of(1, 4), lag_of(2, -1)});
  const std::string series = "corps_consumer_lag{client=\"group\",channel=\"Predictions\",";
  std::string scraped = metrics->render();
  EXPECT_NE(scraped.find(series + "partition=\"0\"} 3\n"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find(series + "partition=\"1\"} 4\n"), std::string::npos) << scraped;
  EXPECT_EQ(scraped.find(series + "partition=\"2\"}"), std::string::npos) << "a lag not known";

  consumer.lag({lag_of(1, 2)});  // partition 0 taken away
  scraped = metrics->render();
  EXPECT_EQ(scraped.find(series + "partition=\"0\"}"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find(series + "partition=\"1\"} 2\n"), std::string::npos) << scraped;

  consumer.forget_lag();
  EXPECT_EQ(metrics->render().find("corps_consumer_lag"), std::string::npos) << metrics->render();
}

TEST(Metrics, CollectorsRunBeforeEachRenderUntilTheirHandleGoes) {
  corps::Metrics metrics;
  int runs = 0;
  auto handle =
      metrics.add_collector([&runs](corps::Metrics& m) { m.gauge("depth", "d").set(++runs); });
  EXPECT_NE(metrics.render().find("depth 1\n"), std::string::npos);
  EXPECT_NE(metrics.render().find("depth 2\n"), std::string::npos);
  handle.reset();
  EXPECT_NE(metrics.render().find("depth 2\n"), std::string::npos) << "not run again";
  EXPECT_EQ(runs, 2);
}

TEST(Metrics, SeriesAreMadeUpdatedAndRenderedFromManyThreadsAtOnce) {
  corps::Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int n = 0; n < 1000; ++n) {
        metrics.counter("shared_total", "s").add();
        metrics.counter("own_total", "o", {{"thread", std::to_string(t)}}).add();
        if (n % 100 == 0) (void)metrics.render();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(metrics.counter("shared_total", "s").value(), 4000u);
  EXPECT_NE(metrics.render().find("own_total{thread=\"3\"} 1000\n"), std::string::npos);
}

}  // namespace

// Every series corps serves follows Prometheus's naming rules, as
// `promtool check metrics` lints them: a counter's name ends in _total and
// nothing else's does; sizes are in bytes and say so; times in seconds; a
// name is [a-zA-Z_][a-zA-Z0-9_]* and does not say "metric".
TEST(Metrics, EverySeriesCorpsServesFollowsPrometheusNamingRules) {
  auto metrics = std::make_shared<corps::Metrics>();
  corps::detail::ProducerMetrics producer(metrics, "producer");
  producer.sent("Predictions", 0.001);
  producer.delivered("Predictions", 0);
  producer.failed("Predictions", corps::Errc::timed_out);
  corps::detail::ConsumerMetrics consumer(metrics, "group");
  consumer.decoded("Predictions", 0, 0.001);
  consumer.decode_failed("Predictions", corps::Stage::parse);
  consumer.dead_lettered("Predictions");
  consumer.retried("Predictions", 2);
  corps::PartitionLag lag;
  lag.partition = {"Predictions", 0};
  lag.lag = 3;
  consumer.lag({lag});
  // librdkafka's statistics, with every client figure corps serves.
  const std::string statistics = R"({"name": "producer#producer-1", "type": "producer",
      "replyq": 1, "msg_cnt": 2, "msg_size": 300, "tx": 4, "tx_bytes": 500, "rx": 6,
      "rx_bytes": 700, "txmsgs": 8, "txmsg_bytes": 900, "rxmsgs": 10, "rxmsg_bytes": 1100,
      "topics": {"Predictions": {"partitions": {"0": {"msgq_cnt": 1, "xmit_msgq_cnt": 1}}}}})";
  producer.kafka_statistics(statistics);
  consumer.kafka_statistics(statistics);

  const std::string scraped = metrics->render();
  std::istringstream lines(scraped);
  std::string line;
  int families = 0;
  while (std::getline(lines, line)) {
    if (!line.starts_with("# TYPE ")) continue;
    ++families;
    std::istringstream fields(line.substr(7));
    std::string name;
    std::string kind;
    fields >> name >> kind;
    const auto ends_with = [&](std::string_view suffix) { return name.ends_with(suffix); };
    EXPECT_TRUE(std::regex_match(name, std::regex("[a-zA-Z_][a-zA-Z0-9_]*"))) << name;
    EXPECT_EQ(name.find("metric"), std::string::npos) << name;
    if (kind == "counter") {
      EXPECT_TRUE(ends_with("_total")) << name << ": a counter's name ends in _total";
    } else {
      EXPECT_FALSE(ends_with("_total")) << name << ": only a counter's name ends in _total";
    }
    const std::string base =
        kind == "counter" && ends_with("_total") ? name.substr(0, name.size() - 6) : name;
    if (base.find("bytes") != std::string::npos || base.find("size") != std::string::npos) {
      EXPECT_TRUE(base.ends_with("_bytes")) << name << ": a size is in bytes, and says so";
    }
    if (kind == "histogram") {
      EXPECT_TRUE(base.ends_with("_seconds") || base.ends_with("_bytes")) << name;
    }
    for (const std::string_view unit : {"_ms", "_milliseconds", "_kb", "_kbytes", "_cnt"}) {
      EXPECT_EQ(base.find(unit), std::string::npos) << name << ": base units only";
    }
  }
  EXPECT_GE(families, 20) << scraped;
}

// librdkafka's client totals only grow: served as counters, each scrape
// shows the latest total, whether statistics came once or many times.
TEST(Metrics, LibrdkafkasTotalsAreCountersThatFollowTheLatestStatistics) {
  auto metrics = std::make_shared<corps::Metrics>();
  corps::detail::ConsumerMetrics consumer(metrics, "group");
  consumer.kafka_statistics(R"({"name": "c#consumer-1", "type": "consumer", "rxmsgs": 10})");
  consumer.kafka_statistics(R"({"name": "c#consumer-1", "type": "consumer", "rxmsgs": 25})");
  const std::string scraped = metrics->render();
  EXPECT_NE(scraped.find("# TYPE corps_kafka_messages_received_total counter\n"), std::string::npos)
      << scraped;
  EXPECT_NE(scraped.find("corps_kafka_messages_received_total{client=\"group\",kafka_client=\"c#"
                         "consumer-1\"} 25\n"),
            std::string::npos)
      << scraped;
}
