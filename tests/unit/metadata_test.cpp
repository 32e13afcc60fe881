#include "corps/metadata.hpp"

#include <google/protobuf/dynamic_message.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <set>

#include "corps/image.pb.h"
#include "messagecorps/image.pb.h"

namespace {

using corps::MetadataDefaults;
using corps::MetadataStamper;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Sets an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Metadata, StampsEveryFieldMessageCorpsStampsAndTheTimestamp) {
  MetadataStamper stamper({corps::proto::STAGING, "camera-1"});
  corps::proto::MessageData metadata;
  const double before = now_seconds();
  stamper.stamp(metadata);
  const double after = now_seconds();
  EXPECT_GE(metadata.timestamp(), before - 0.001);
  EXPECT_LE(metadata.timestamp(), after + 0.001);
  EXPECT_EQ(metadata.environment(), corps::proto::STAGING);
  EXPECT_EQ(metadata.sending_service(), "camera-1");
  EXPECT_TRUE(std::regex_match(
      metadata.uuid(),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << metadata.uuid();
  EXPECT_TRUE(std::regex_match(metadata.iso_date(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00)")))
      << metadata.iso_date();
  EXPECT_TRUE(std::regex_match(metadata.trace_id(), std::regex("[0-9a-f]{32}")))
      << metadata.trace_id();
  EXPECT_EQ(metadata.offset(), 0);
  EXPECT_EQ(metadata.partition(), 0);
}

TEST(Metadata, IsoDateAgreesWithTheTimestamp) {
  MetadataStamper stamper(MetadataDefaults{});
  corps::proto::MessageData metadata;
  stamper.stamp(metadata);
  const auto seconds = static_cast<std::time_t>(metadata.timestamp());
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char expected[32];
  std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S", &tm);
  EXPECT_EQ(metadata.iso_date().substr(0, 19), expected);
}

TEST(Metadata, KeepsAnExistingTraceIdSoATraceFollowsTheMessage) {
  MetadataStamper stamper(MetadataDefaults{});
  corps::proto::MessageData metadata;
  metadata.set_trace_id("0123456789abcdef0123456789abcdef");
  stamper.stamp(metadata);
  EXPECT_EQ(metadata.trace_id(), "0123456789abcdef0123456789abcdef");
}

TEST(Metadata, GivesEveryRecordAFreshUuidAndTraceId) {
  MetadataStamper stamper(MetadataDefaults{});
  std::set<std::string> uuids;
  std::set<std::string> traces;
  for (int i = 0; i < 10000; ++i) {
    corps::proto::MessageData metadata;
    stamper.stamp(metadata);
    uuids.insert(metadata.uuid());
    traces.insert(metadata.trace_id());
  }
  EXPECT_EQ(uuids.size(), 10000u);
  EXPECT_EQ(traces.size(), 10000u);
}

TEST(Metadata, DefaultsComeFromTheVariablesMessageCorpsReads) {
  ScopedEnv environment("ENVIRONMENT", "PRODUCTION");
  ScopedEnv service("LOG_TAG_SERVICE", "predictor");
  const auto defaults = MetadataDefaults::from_environment();
  EXPECT_EQ(defaults.environment, corps::proto::PRODUCTION);
  EXPECT_EQ(defaults.sending_service, "predictor");
}

TEST(Metadata, DefaultsMatchMessageCorpsWhenTheVariablesAreUnset) {
  ScopedEnv environment("ENVIRONMENT", nullptr);
  ScopedEnv service("LOG_TAG_SERVICE", nullptr);
  const auto defaults = MetadataDefaults::from_environment();
  EXPECT_EQ(defaults.environment, corps::proto::DEVELOPMENT);
  EXPECT_EQ(defaults.sending_service, "NOTSET");
}

TEST(Metadata, AnUnknownEnvironmentNameIsAConfigErrorNamingTheValue) {
  ScopedEnv environment("ENVIRONMENT", "PRODUKTION");
  try {
    (void)MetadataDefaults::from_environment();
    FAIL() << "expected a corps::Exception";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(e.error().message().find("'PRODUKTION'"), std::string::npos);
  }
  EXPECT_EQ(corps::parse_environment("staging"), corps::proto::STAGING);
}

TEST(Metadata, StampsMetadataOfAnotherNameAndPackageByFieldNumber) {
  MetadataStamper stamper({corps::proto::PRODUCTION, "svc"});
  protobuf::image::Image image;
  image.mutable__message_data()->set_trace_id("feedfeedfeedfeedfeedfeedfeedfeed");
  stamper.stamp(image, image.GetDescriptor()->FindFieldByNumber(5));
  const auto& metadata = image._message_data();
  EXPECT_EQ(metadata.environment(), protobuf::common::messageData::PRODUCTION);
  EXPECT_EQ(metadata.sending_service(), "svc");
  EXPECT_EQ(metadata.uuid().size(), 36u);
  EXPECT_GT(metadata.timestamp(), 0);
  EXPECT_EQ(metadata.trace_id(), "feedfeedfeedfeedfeedfeedfeedfeed");
}

TEST(Metadata, RecordsOffsetAndPartitionAndReadsThemBack) {
  corps::proto::Image image;
  const auto* field = image.GetDescriptor()->FindFieldByNumber(5);
  corps::record_position(image, field, 3, 12345);
  EXPECT_EQ(image.message_data().partition(), 3);
  EXPECT_EQ(image.message_data().offset(), 12345);
  protobuf::image::Image foreign;
  corps::record_position(foreign, foreign.GetDescriptor()->FindFieldByNumber(5), 2, 9);
  const auto copy = corps::read_metadata(foreign, foreign.GetDescriptor()->FindFieldByNumber(5));
  EXPECT_EQ(copy.partition(), 2);
  EXPECT_EQ(copy.offset(), 9);
}

}  // namespace
