// The display's /stats.json: what a page's script reads. protobuf's JSON
// printer writes 64-bit integers as strings (the proto3 JSON mapping), so a
// script that added or compared them got "12" + 1 = "121".
#include "page_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/display.pb.h"

namespace {

TEST(PageJson, SixtyFourBitCountsAreJsonNumbersEverywhere) {
  corps::pipeline::DisplayStats stats;
  stats.set_frames(12);
  stats.set_errors(9'007'199'254'740'991);  // 2^53 - 1: the most a page's number holds exactly
  stats.set_frames_per_second_in(2.5);
  auto* source = stats.add_sources();
  source->set_source("123");  // a string that looks like a number stays a string
  source->set_frame(7);
  (*source->mutable_labels())["face"] = 2;
  auto* lag = stats.add_lag();
  lag->set_topic("VideoStream");
  lag->set_lag(5);
  auto* service = stats.add_services();
  service->set_instance("predict-1");
  (*service->mutable_counters())["predicted"] = 40;

  const auto json = nlohmann::json::parse(corps::pipeline::page_json(stats));
  EXPECT_EQ(json["frames"], 12);
  EXPECT_EQ(json["errors"], 9'007'199'254'740'991);
  EXPECT_EQ(json["framesPerSecondIn"], 2.5);
  EXPECT_EQ(json["sources"][0]["source"], "123");
  EXPECT_EQ(json["sources"][0]["frame"], 7);
  EXPECT_EQ(json["sources"][0]["labels"]["face"], 2);
  EXPECT_EQ(json["lag"][0]["lag"], 5);
  EXPECT_EQ(json["services"][0]["counters"]["predicted"], 40);
}

}  // namespace
