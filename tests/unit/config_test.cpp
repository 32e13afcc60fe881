#include "corps/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "corps/image.pb.h"

namespace {

using corps::Config;

corps::Error config_error(std::string_view yaml) {
  try {
    (void)Config::parse(yaml, "pipeline.yaml");
  } catch (const corps::Exception& e) {
    return e.error();
  }
  ADD_FAILURE() << "expected a corps::Exception for:\n" << yaml;
  return corps::Error(corps::Errc::invalid_argument, corps::Stage::bind, "none");
}

// Points CORPS_BROKER_FILE and CORPS_BROKERS at test values for one test.
class BrokerEnvironment : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = std::filesystem::temp_directory_path() /
            ("corps-test-broker-" + std::to_string(::getpid()));
    setenv("CORPS_BROKER_FILE", file_.c_str(), 1);
    unsetenv("CORPS_BROKERS");
  }
  void TearDown() override {
    std::filesystem::remove(file_);
    unsetenv("CORPS_BROKER_FILE");
    unsetenv("CORPS_BROKERS");
  }
  std::filesystem::path file_;
};

TEST(Config, ReadsBrokersGroupChannelsAndLibrdkafkaProperties) {
  const auto config = Config::parse(R"(
brokers: [kafka-1:9092, kafka-2:9092]
group: detectors
client_id: predict-1
registry: http://registry-1:8081,http://registry-2:8081
channels:
  VideoStream: corps.proto.Image
  Predictions: corps.proto.Prediction
librdkafka:
  linger.ms: 10
)");
  EXPECT_EQ(config.registry, "http://registry-1:8081,http://registry-2:8081");
  EXPECT_EQ(config.brokers, "kafka-1:9092,kafka-2:9092");
  EXPECT_EQ(config.group_id, "detectors");
  EXPECT_EQ(config.client_id, "predict-1");
  EXPECT_EQ(config.channels.at("VideoStream"), "corps.proto.Image");
  EXPECT_EQ(config.properties.at("linger.ms"), "10");

  corps::ChannelRegistry registry;
  config.bind_channels(registry);
  EXPECT_EQ(registry.find("VideoStream")->type(), corps::proto::Image::descriptor());
}

TEST(Config, SectionsInheritWhatTheyDoNotOverride) {
  const auto config = Config::parse(R"(
brokers: localhost:9092
group: chain
sections:
  adder:
    client_id: adder-1
    registry: http://adders-registry:8081
    channels: {Requests: corps.proto.Prediction}
  printer:
    group: printers
    consume: Results
    produce: [Printed, Audit]
)");
  const auto adder = config.section("adder");
  EXPECT_EQ(adder.brokers, "localhost:9092");
  EXPECT_EQ(adder.group_id, "chain");
  EXPECT_EQ(adder.client_id, "adder-1");
  EXPECT_EQ(adder.channels.size(), 1u);
  EXPECT_EQ(adder.registry, "http://adders-registry:8081");
  EXPECT_EQ(config.section("printer").registry, "");
  EXPECT_EQ(config.section("printer").group_id, "printers");
  EXPECT_EQ(config.section("printer").consume, std::vector<std::string>{"Results"});
  EXPECT_EQ(config.section("printer").produce, (std::vector<std::string>{"Printed", "Audit"}));
  EXPECT_TRUE(adder.consume.empty());
  try {
    (void)config.section("divider");
    FAIL();
  } catch (const corps::Exception& e) {
    EXPECT_NE(std::string(e.what()).find("sections: adder, printer"), std::string::npos)
        << e.what();
  }
}

TEST(Config, AnUnknownKeyIsRefusedWithItsLine) {
  const auto error = config_error("brokers: x\nbrokres: y\n");
  EXPECT_EQ(error.stage(), corps::Stage::config);
  EXPECT_NE(error.message().find("pipeline.yaml:2:1"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("unknown key 'brokres'"), std::string::npos);
}

TEST(Config, AWrongShapeIsRefused) {
  EXPECT_NE(config_error("channels: [a, b]\n").message().find("'channels' must be a mapping"),
            std::string::npos);
  EXPECT_NE(config_error("group: {a: 1}\n").message().find("'group' must be a single value"),
            std::string::npos);
  EXPECT_NE(config_error("- a\n- b\n").message().find("top level"), std::string::npos);
}

TEST(Config, ASyntaxErrorIsRefusedWithItsPlace) {
  const auto error = config_error("brokers: [a, b\n");
  EXPECT_NE(error.message().find("pipeline.yaml:"), std::string::npos) << error.message();
}

TEST(Config, AMissingFileIsRefusedByName) {
  try {
    (void)Config::load("/nonexistent/corps.yaml");
    FAIL();
  } catch (const corps::Exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/corps.yaml"), std::string::npos);
  }
}

TEST(Config, AnUnknownChannelTypeIsRefusedAtBind) {
  const auto config = Config::parse("channels: {X: corps.proto.Missing}\n");
  corps::ChannelRegistry registry;
  EXPECT_THROW(config.bind_channels(registry), corps::Exception);
}

TEST_F(BrokerEnvironment, AnExplicitListWinsOverEverything) {
  setenv("CORPS_BROKERS", "env:9092", 1);
  const auto brokers = corps::Brokers::resolve("flag:9092", "config:9092");
  EXPECT_EQ(brokers.bootstrap_servers(), "flag:9092");
  EXPECT_EQ(brokers.source(), corps::BrokerSource::explicit_list);
  EXPECT_EQ(brokers.embedded(), nullptr);
}

TEST_F(BrokerEnvironment, TheEnvironmentWinsOverTheConfigFile) {
  setenv("CORPS_BROKERS", "env:9092", 1);
  EXPECT_EQ(corps::Brokers::resolve("", "config:9092").bootstrap_servers(), "env:9092");
  unsetenv("CORPS_BROKERS");
  EXPECT_EQ(corps::Brokers::resolve("", "config:9092").source(), corps::BrokerSource::config_file);
}

TEST_F(BrokerEnvironment, ALiveBrokersAddressFileIsFound) {
  corps::write_broker_address_file("127.0.0.1:45678");
  EXPECT_EQ(corps::read_broker_address_file(), "127.0.0.1:45678");
  const auto brokers = corps::Brokers::resolve();
  EXPECT_EQ(brokers.source(), corps::BrokerSource::address_file);
  corps::remove_broker_address_file();
  EXPECT_FALSE(std::filesystem::exists(file_));
}

TEST_F(BrokerEnvironment, AStaleAddressFileIsIgnored) {
  std::ofstream(file_) << "127.0.0.1:45678\n" << 999999999 << '\n';
  EXPECT_EQ(corps::read_broker_address_file(), "");
}

TEST_F(BrokerEnvironment, WithNothingGivenAnEmbeddedBrokerStarts) {
  const auto brokers = corps::Brokers::resolve();
  EXPECT_EQ(brokers.source(), corps::BrokerSource::embedded);
  ASSERT_NE(brokers.embedded(), nullptr);
  EXPECT_EQ(brokers.bootstrap_servers().rfind("127.0.0.1:", 0), 0u) << brokers.bootstrap_servers();
}

}  // namespace
