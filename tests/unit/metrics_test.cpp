// Metrics in Prometheus's text format: what a scraper parses, in an order
// that does not change between renders.
#include "corps/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "corps/error.hpp"

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
