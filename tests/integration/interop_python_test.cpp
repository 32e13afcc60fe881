// Interoperability with clients no one here wrote: Python's kafka-python and
// confluent-kafka, decoding as MessageCorps does (zlib.decompress +
// ParseFromString), and MessageCorps-style records read by corps.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "corps/corps.hpp"
#include "corps/image.pb.h"
#include "corps/testing/broker_test.hpp"
#include "support/run_command.hpp"

namespace {

using namespace std::chrono_literals;
using corps::testing::consume;

using Outcome = corps_tests::CommandOutcome;

Outcome run_python_client(const std::string& arguments) {
  return corps_tests::run_command("PYTHONPATH=" CORPS_TEST_PYTHON_DIR
                                  " ENVIRONMENT=STAGING LOG_TAG_SERVICE=python-sender "
                                  "/usr/bin/python3 " CORPS_TEST_INTEROP_DIR
                                  "/messagecorps_client.py " +
                                  arguments);
}

google::protobuf::Struct parse_json(const std::string& line) {
  google::protobuf::Struct object;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &object).ok()) << line;
  return object;
}

const google::protobuf::Value& field(const google::protobuf::Struct& object,
                                     const std::string& name) {
  return object.fields().at(name);
}

class Interop : public corps::testing::BrokerTest {
 protected:
  Interop() {
    registry_.bind<corps::proto::Image>("VideoStream");
    create_topic("VideoStream", 1);
  }

  // Sends five frames through corps and returns them as stamped.
  std::vector<corps::proto::Image> send_with_corps() {
    auto options = producer_options();
    options.handler.metadata = {corps::proto::PRODUCTION, "corps-sender"};
    corps::Producer producer(registry_, options);
    std::vector<corps::proto::Image> sent(5);
    for (int n = 0; n < 5; ++n) {
      sent[n].set_image_data(std::string(30, 'p'));
      sent[n].set_width(5);
      sent[n].set_height(2);
      sent[n].set_frame(n);
      EXPECT_TRUE(producer.send("VideoStream", sent[n]).get().ok());
    }
    return sent;
  }

  void expect_decoded_as_sent(const Outcome& outcome,
                              const std::vector<corps::proto::Image>& sent) {
    ASSERT_EQ(outcome.exit_code, 0);
    ASSERT_EQ(outcome.lines.size(), sent.size());
    for (std::size_t n = 0; n < sent.size(); ++n) {
      const auto read = parse_json(outcome.lines[n]);
      const auto& metadata = sent[n].message_data();
      EXPECT_EQ(field(read, "frame").number_value(), static_cast<double>(n));
      EXPECT_EQ(field(read, "image_data_size").number_value(), 30);
      EXPECT_EQ(field(read, "uuid").string_value(), metadata.uuid());
      EXPECT_EQ(field(read, "trace_id").string_value(), metadata.trace_id());
      EXPECT_EQ(field(read, "iso_date").string_value(), metadata.iso_date());
      EXPECT_DOUBLE_EQ(field(read, "timestamp").number_value(), metadata.timestamp());
      EXPECT_EQ(field(read, "environment").string_value(), "PRODUCTION");
      EXPECT_EQ(field(read, "sending_service").string_value(), "corps-sender");
      EXPECT_EQ(field(read, "offset").number_value(), static_cast<double>(n));
      EXPECT_EQ(field(read, "partition").number_value(), 0);
    }
  }
};

TEST_F(Interop, KafkaPythonDecodesCorpsRecordsAsMessageCorpsDoes) {
  const auto sent = send_with_corps();
  const auto outcome = run_python_client("read --client kafka-python --brokers " + brokers() +
                                         " --topic VideoStream --count 5");
  expect_decoded_as_sent(outcome, sent);
}

TEST_F(Interop, ConfluentKafkaDecodesCorpsRecordsAsMessageCorpsDoes) {
  const auto sent = send_with_corps();
  const auto outcome = run_python_client("read --client confluent-kafka --brokers " + brokers() +
                                         " --topic VideoStream --count 5");
  expect_decoded_as_sent(outcome, sent);
}

TEST_F(Interop, CorpsDecodesRecordsWrittenAsMessageCorpsWritesThem) {
  const auto outcome =
      run_python_client("write --brokers " + brokers() + " --topic VideoStream --count 5");
  ASSERT_EQ(outcome.exit_code, 0);
  ASSERT_EQ(outcome.lines.size(), 5u);

  corps::Consumer consumer(registry_, consumer_options("from-python", {"VideoStream"}));
  const auto records = consume(consumer, 5);
  ASSERT_EQ(records.size(), 5u);
  for (int n = 0; n < 5; ++n) {
    const auto& record = records[n];
    ASSERT_TRUE(record.ok()) << record.error().to_string();
    EXPECT_FALSE(record.key().has_value());
    EXPECT_TRUE(record.headers().empty());
    const auto& image = record.as<corps::proto::Image>();
    EXPECT_EQ(image.frame(), n);
    EXPECT_EQ(image.image_data(), "this is just a test string");
    EXPECT_EQ(image.width(), 10);
    const auto& metadata = image.message_data();
    EXPECT_EQ(metadata.environment(), corps::proto::STAGING);
    EXPECT_EQ(metadata.sending_service(), "python-sender");
    EXPECT_TRUE(std::regex_match(metadata.uuid(), std::regex("[0-9a-f-]{36}"))) << metadata.uuid();
    EXPECT_TRUE(std::regex_match(metadata.trace_id(), std::regex("[0-9a-f]{32}")));
    EXPECT_EQ(metadata.timestamp(), 0) << "MessageCorps never sets it";
    EXPECT_EQ(metadata.offset(), n);
  }
}

}  // namespace
