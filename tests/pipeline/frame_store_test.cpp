#include "frame_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace {

using corps::pipeline::FrameStore;

class FrameStoreTest : public ::testing::Test {
 protected:
  FrameStoreTest()
      : path_(std::filesystem::temp_directory_path() /
              ("corps-store-" + std::to_string(::getpid()) + ".db")) {
    std::filesystem::remove(path_);
  }
  ~FrameStoreTest() override {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }

  static corps::proto::Image image(const std::string& trace, std::int64_t frame, double at) {
    corps::proto::Image image;
    image.set_source("vtest");
    image.set_frame(frame);
    image.set_width(4);
    image.set_height(3);
    image.mutable_message_data()->set_trace_id(trace);
    image.mutable_message_data()->set_timestamp(at);
    return image;
  }

  static corps::proto::Prediction prediction(const std::string& trace, std::int64_t frame,
                                             double at, std::vector<std::string> labels) {
    corps::proto::Prediction prediction;
    prediction.set_source("vtest");
    prediction.set_frame(frame);
    prediction.set_image_timestamp(at);
    prediction.mutable_message_data()->set_trace_id(trace);
    prediction.mutable_message_data()->set_timestamp(at + 0.25);
    for (const auto& label : labels) {
      prediction.add_object(label);
      auto* detection = prediction.add_detections();
      detection->set_label(label);
      detection->set_width(10);
      detection->set_height(20);
    }
    return prediction;
  }

  std::filesystem::path path_;
};

TEST_F(FrameStoreTest, JoinsAPredictionThatArrivesBeforeItsFrame) {
  FrameStore store(path_);
  store.put_prediction(prediction("t1", 1, 100, {"person", "person"}));
  auto only_prediction = store.by_frame("vtest", 1);
  EXPECT_FALSE(only_prediction.has_value()) << "no frame stored yet";
  store.put_frame(image("t1", 1, 100), "jpeg-bytes");
  const auto joined = store.by_frame("vtest", 1);
  ASSERT_TRUE(joined.has_value());
  EXPECT_TRUE(joined->predicted);
  EXPECT_EQ(joined->labels, (std::vector<std::string>{"person", "person"}));
  EXPECT_EQ(joined->jpeg, "jpeg-bytes");
  EXPECT_DOUBLE_EQ(joined->predicted_at, 100.25);
}

TEST_F(FrameStoreTest, AFrameWithoutItsPredictionYetSaysSo) {
  FrameStore store(path_);
  store.put_frame(image("t2", 2, 100), "x");
  const auto frame = store.by_frame("vtest", 2);
  ASSERT_TRUE(frame.has_value());
  EXPECT_FALSE(frame->predicted);
}

TEST_F(FrameStoreTest, WritingTheSameRecordTwiceStoresItOnce) {
  FrameStore store(path_);
  for (int i = 0; i < 2; ++i) {
    store.put_frame(image("t3", 3, 100), "x");
    store.put_prediction(prediction("t3", 3, 100, {"face"}));
  }
  const auto summary = store.summary();
  EXPECT_EQ(summary.frames, 1);
  EXPECT_EQ(summary.predictions, 1);
  EXPECT_EQ(summary.joined, 1);
  EXPECT_EQ(summary.detections_by_label,
            (std::vector<std::pair<std::string, std::int64_t>>{{"face", 1}}));
}

TEST_F(FrameStoreTest, QueriesByLabelAndByTime) {
  FrameStore store(path_);
  store.put_frame(image("a", 1, 100), "x");
  store.put_frame(image("b", 2, 200), "x");
  store.put_frame(image("c", 3, 300), "x");
  store.put_prediction(prediction("a", 1, 100, {"person"}));
  store.put_prediction(prediction("b", 2, 200, {"face"}));
  store.put_prediction(prediction("c", 3, 300, {"person", "face"}));
  const auto people = store.by_label("person");
  ASSERT_EQ(people.size(), 2u);
  EXPECT_EQ(people[0].frame, 1);
  EXPECT_EQ(people[1].frame, 3);
  const auto middle = store.between(150, 250);
  ASSERT_EQ(middle.size(), 1u);
  EXPECT_EQ(middle[0].trace_id, "b");
  EXPECT_EQ(store.summary().latencies, (std::vector<double>{0.25, 0.25, 0.25}));
}

TEST_F(FrameStoreTest, SurvivesReopening) {
  {
    FrameStore store(path_);
    store.put_frame(image("t", 9, 1), "x");
  }
  FrameStore reopened(path_);
  EXPECT_TRUE(reopened.by_frame("vtest", 9).has_value());
}

TEST_F(FrameStoreTest, AnUnopenableFileIsAConfigErrorNamingIt) {
  try {
    FrameStore store("/nonexistent/dir/p.db");
    FAIL();
  } catch (const corps::Exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/p.db"), std::string::npos);
  }
}

}  // namespace
