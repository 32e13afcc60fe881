// Types that come from the records: a consumer reading a channel it has no
// type for by each record's schema id, and channels that carry several
// types (ChannelRegistry::bind_types), each record naming its own.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "corps/confluent_framing.hpp"
#include "corps/consumer.hpp"
#include "corps/embedded_schema_registry.hpp"
#include "corps/error.hpp"
#include "corps/image.pb.h"
#include "corps/message_handler.hpp"
#include "corps/prediction.pb.h"
#include "corps/producer.hpp"
#include "corps/schema_registry.hpp"
#include "corps/testing/broker_test.hpp"
#include "corps_test/nested_types.pb.h"
#include "corps_test/test_types.pb.h"
#include "support/expect.hpp"
#include "support/hang_guard.hpp"

namespace {

using namespace std::chrono_literals;
using corps_tests::error_of;

#define EXPECT_THAT_TEXT(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

class RegistryTypes : public corps::testing::BrokerTest {
 protected:
  corps::EmbeddedSchemaRegistry start_registry() {
    return corps::EmbeddedSchemaRegistry({.brokers = brokers(), .timeout = 20s});
  }
  static std::shared_ptr<corps::SchemaRegistryClient> client_of(
      const corps::EmbeddedSchemaRegistry& registry) {
    return std::make_shared<corps::SchemaRegistryClient>(
        corps::SchemaRegistryOptions{.url = registry.url()});
  }

  // Sends `count` Readings (value n) on `channel` framed for `registry`.
  void send_readings(const std::string& channel, const corps::EmbeddedSchemaRegistry& registry,
                     int count) {
    corps::ChannelRegistry channels;
    const auto readings = channels.bind<corps_test::Reading>(channel, corps::WireFormat::confluent);
    auto options = producer_options();
    options.schema_registry.client = client_of(registry);
    corps::Producer producer(channels, options);
    for (int n = 0; n < count; ++n) {
      corps_test::Reading reading;
      reading.set_value(n);
      reading.set_unit("kPa");
      ASSERT_TRUE(producer.send(readings, reading).get().ok());
    }
  }

  // Sends `value` as it is, with no headers.
  void send_value(const std::string& channel, const std::string& value) {
    corps::Producer producer(corps::ChannelRegistry{}, producer_options());
    ASSERT_TRUE(producer.send_raw(channel, value).get().ok());
  }

  // A Reading framed with `schema_id` and one message index, written by hand.
  static std::string framed_reading(std::int32_t schema_id, int index) {
    std::string value(1, '\0');
    for (int shift = 24; shift >= 0; shift -= 8) {
      value += static_cast<char>((schema_id >> shift) & 0xff);
    }
    if (index == 0) {
      value += '\0';  // the common path [0], as one byte
    } else {
      value += '\x02';                        // one index, zigzag
      value += static_cast<char>(index * 2);  // zigzag of a small positive index
    }
    corps_test::Reading reading;
    reading.set_value(1.5);
    return value + reading.SerializeAsString();
  }
};

double field_value(const google::protobuf::Message& message, const std::string& name) {
  const auto* field = message.GetDescriptor()->FindFieldByName(name);
  return message.GetReflection()->GetDouble(message, field);
}

TEST_F(RegistryTypes, AConsumerWithARegistryReadsAChannelItHasNoTypeFor) {
  create_topic("Readings", 1);
  auto registry = start_registry();
  send_readings("Readings", registry, 3);

  std::vector<corps::Record> records;
  {
    auto options = consumer_options("", {"Readings"});
    options.schema_registry = client_of(registry);
    corps::Consumer consumer(corps::ChannelRegistry{}, options);
    records = corps::testing::consume(consumer, 3);
  }
  // The consumer and its registry client are gone; the records keep the
  // types they were made with.
  ASSERT_EQ(records.size(), 3U);
  for (std::size_t n = 0; n < records.size(); ++n) {
    const auto& record = records[n];
    ASSERT_TRUE(record.ok()) << record.error().to_string();
    EXPECT_EQ(record.message().GetDescriptor()->full_name(), "corps_test.Reading");
    EXPECT_EQ(record.get_if<corps_test::Reading>(), nullptr)
        << "made from the registry's schema, not the compiled type";
    EXPECT_EQ(field_value(record.message(), "value"), static_cast<double>(n));
    // The metadata field is found in the registry's type by its shape.
    const auto metadata = record.metadata();
    EXPECT_EQ(metadata.offset(), static_cast<std::int64_t>(n));
    EXPECT_EQ(metadata.uuid().size(), 36U);
  }
}

// The message indexes [0, 8] of Outer.N8, written plain (confluent-kafka
// 1.7.0 for Python), are the bytes of zigzag [0] and a message: both name a
// message of the registered file. On a channel bound to N8 the channel's
// type decides; on one the consumer has no type for, the configured
// encoding does, and the default (zigzag) says so when the record fails.
TEST_F(RegistryTypes, PlainIndexesOfANestedTypeAreReadByTheSchemaOrTheConfiguredEncoding) {
  create_topic("Nested", 1);
  auto registry = start_registry();
  auto client = client_of(registry);
  const auto id =
      client->register_file("Nested-value", *corps_test::nested::Outer::descriptor()->file());
  corps_test::nested::Outer::N8 n8;
  n8.set_value(5);
  n8.set_name("x");
  std::string value;
  corps::append_confluent_prefix(value, id, std::vector<int>{0, 8},
                                 corps::MessageIndexEncoding::plain);
  send_value("Nested", value + n8.SerializeAsString());

  const auto read = [&](corps::ChannelRegistry channels, corps::MessageIndexEncoding encoding) {
    auto options = consumer_options("", {"Nested"});
    options.schema_registry = client;
    options.loader.message_index_encoding = encoding;
    corps::Consumer consumer(std::move(channels), options);
    auto records = corps::testing::consume(consumer, 1);
    EXPECT_EQ(records.size(), 1U);
    return records.empty() ? std::optional<corps::Record>() : std::move(records.front());
  };
  corps::ChannelRegistry bound;
  bound.bind<corps_test::nested::Outer::N8>("Nested", corps::WireFormat::confluent);
  const auto typed = read(bound, corps::MessageIndexEncoding::zigzag);
  ASSERT_TRUE(typed && typed->ok()) << (typed ? typed->error().to_string() : "none");
  EXPECT_EQ(typed->as<corps_test::nested::Outer::N8>().name(), "x");

  const auto plain = read(corps::ChannelRegistry{}, corps::MessageIndexEncoding::plain);
  ASSERT_TRUE(plain && plain->ok()) << (plain ? plain->error().to_string() : "none");
  EXPECT_EQ(plain->message().GetDescriptor()->full_name(), "corps_test.nested.Outer.N8");

  const auto zigzag = read(corps::ChannelRegistry{}, corps::MessageIndexEncoding::zigzag);
  ASSERT_TRUE(zigzag);
  ASSERT_FALSE(zigzag->ok()) << "read as Outer";
  EXPECT_EQ(zigzag->error().code(), corps::Errc::parse_failed);
  EXPECT_THAT_TEXT(zigzag->error().message(), "read as plain ones, [0, 8]");
}

// Records of two schema ids hold two types made at run time; replacing one
// record with the other must let go of the old message before its type.
// (Under AddressSanitizer a use after free otherwise.)
TEST_F(RegistryTypes, ARecordOfARegistrysTypeOutlivesItsConsumerAndMayBeReplaced) {
  create_topic("Anything", 1);
  auto registry = start_registry();
  const auto send = [&](const google::protobuf::Message& prototype, auto fill) {
    corps::ChannelRegistry channels;
    channels.bind("Anything", prototype, corps::WireFormat::confluent);
    auto options = producer_options();
    options.schema_registry.client = client_of(registry);
    options.schema_registry.subject_name_strategy = corps::SubjectNameStrategy::record;
    corps::Producer producer(channels, options);
    std::unique_ptr<google::protobuf::Message> message(prototype.New());
    fill(*message);
    ASSERT_TRUE(producer.send("Anything", *message).get().ok());
  };
  send(corps_test::Reading::default_instance(), [](google::protobuf::Message& message) {
    static_cast<corps_test::Reading&>(message).set_value(3.25);
  });
  send(corps::proto::Image::default_instance(), [](google::protobuf::Message& message) {
    static_cast<corps::proto::Image&>(message).set_frame(11);
  });

  std::vector<corps::Record> records;
  {
    auto options = consumer_options("", {"Anything"});
    options.schema_registry = client_of(registry);
    corps::Consumer consumer(corps::ChannelRegistry{}, options);
    records = corps::testing::consume(consumer, 2);
  }
  ASSERT_EQ(records.size(), 2U);
  ASSERT_TRUE(records[0].ok()) << records[0].error().to_string();
  ASSERT_TRUE(records[1].ok()) << records[1].error().to_string();
  EXPECT_NE(records[0].schema_id(), records[1].schema_id());
  EXPECT_EQ(field_value(records[0].message(), "value"), 3.25);

  records[0] = std::move(records[1]);
  records.pop_back();
  const auto& image = records[0].message();
  EXPECT_EQ(image.GetDescriptor()->full_name(), "corps.proto.Image");
  EXPECT_EQ(image.GetReflection()->GetInt64(image, image.GetDescriptor()->FindFieldByName("frame")),
            11);
}

TEST_F(RegistryTypes, IdsTheRegistryCannotAnswerForAreSchemaErrorsAndDeadLetters) {
  create_topic("Readings", 1);
  auto registry = start_registry();
  send_readings("Readings", registry, 1);  // registers the schema: id 1 or more
  const auto id = client_of(registry)->version("Readings-value").id;
  send_value("Readings", framed_reading(id + 1000, 0));
  send_value("Readings", framed_reading(id, 9));  // the file has 4 messages

  auto options = consumer_options("", {"Readings"});
  options.schema_registry = client_of(registry);
  options.dead_letters.emplace();
  options.dead_letters->service = "registry-types-test";
  {
    corps::Consumer consumer(corps::ChannelRegistry{}, options);
    const auto records = corps::testing::consume(consumer, 3);
    ASSERT_EQ(records.size(), 3U);
    EXPECT_TRUE(records[0].ok()) << records[0].error().to_string();

    ASSERT_FALSE(records[1].ok());
    EXPECT_EQ(records[1].error().stage(), corps::Stage::schema);
    EXPECT_EQ(records[1].error().code(), corps::Errc::schema_not_found);
    EXPECT_THAT_TEXT(records[1].error().message(), std::to_string(id + 1000));
    EXPECT_EQ(records[1].error().location(), records[1].location());

    ASSERT_FALSE(records[2].ok());
    EXPECT_EQ(records[2].error().stage(), corps::Stage::schema);
    EXPECT_EQ(records[2].error().code(), corps::Errc::schema_not_found);
    EXPECT_THAT_TEXT(records[2].error().message(), "no message at indexes [9]");
  }

  corps::ChannelRegistry letters_registry;
  letters_registry.bind<corps::proto::DeadLetter>("DeadLetters");
  corps::Consumer reader(letters_registry, consumer_options("", {"DeadLetters"}));
  const auto letters = corps::testing::consume(reader, 2);
  ASSERT_EQ(letters.size(), 2U);
  for (std::size_t n = 0; n < letters.size(); ++n) {
    const auto& letter = letters[n].as<corps::proto::DeadLetter>();
    EXPECT_EQ(letter.stage(), "schema");
    EXPECT_EQ(letter.offset(), static_cast<std::int64_t>(n + 1));
  }
}

TEST_F(RegistryTypes, ARegistryThatDoesNotAnswerIsARetriableSchemaError) {
  create_topic("Readings", 1);
  {
    auto registry = start_registry();
    send_readings("Readings", registry, 1);
  }
  auto options = consumer_options("", {"Readings"});
  // Nothing listens on port 1.
  options.schema_registry =
      std::make_shared<corps::SchemaRegistryClient>(corps::SchemaRegistryOptions{
          .url = "http://127.0.0.1:1", .request_timeout = 1s, .retries = 0});
  corps::Consumer consumer(corps::ChannelRegistry{}, options);
  const auto records = corps::testing::consume(consumer, 1);
  ASSERT_EQ(records.size(), 1U);
  ASSERT_FALSE(records[0].ok());
  EXPECT_EQ(records[0].error().stage(), corps::Stage::schema);
  EXPECT_EQ(records[0].error().code(), corps::Errc::registry_unreachable);
  EXPECT_EQ(records[0].error().severity(), corps::Severity::retriable);
}

// A registry that takes connections and never answers: each look-up waits
// its whole request timeout, retries and all (10 s x 4 by default: a
// poll(1 s) took 40.9 s). A look-up keeps the poll's timeout, and an id that
// failed is not asked again at once: the next records of it come back
// failed without waiting, until its backoff is over.
TEST_F(RegistryTypes, ALookUpKeepsThePollsTimeoutAndAFailedIdIsNotAskedAgainAtOnce) {
  create_topic("Readings", 1);
  {
    auto registry = start_registry();
    send_readings("Readings", registry, 3);
  }
  const int silent = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(silent, 16), 0);  // connections complete; nothing ever answers
  socklen_t size = sizeof address;
  getsockname(silent, reinterpret_cast<sockaddr*>(&address), &size);
  auto options = consumer_options("", {"Readings"});
  options.decode_threads = 0;  // decoded on the thread that polls
  options.schema_registry =
      std::make_shared<corps::SchemaRegistryClient>(corps::SchemaRegistryOptions{
          .url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port))});
  corps::Consumer consumer(corps::ChannelRegistry{}, options);
  corps_tests::HangGuard guard(60s, "a poll whose record's schema the registry never gives");
  std::vector<std::chrono::milliseconds> took;
  std::vector<corps::Record> records;
  while (records.size() < 3) {
    const auto started = std::chrono::steady_clock::now();
    auto record = consumer.poll(1s);
    took.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started));
    if (record) records.push_back(std::move(*record));
  }
  for (const auto& record : records) {
    ASSERT_FALSE(record.ok());
    EXPECT_EQ(record.error().code(), corps::Errc::registry_unreachable)
        << record.error().to_string();
    EXPECT_EQ(record.error().severity(), corps::Severity::retriable);
  }
  EXPECT_THAT_TEXT(records[1].error().message(), "not asked again");
  // Watchdog bounds, not speeds: the look-up ended with the poll (plus a
  // margin for a loaded machine), where it took 40 s before.
  for (const auto duration : took)
    EXPECT_LT(duration, 10s) << "a poll(1 s) took " << duration.count() << " ms";
  close(silent);
}

TEST_F(RegistryTypes, OnABoundChannelTheSchemaIdMustNameATypeTheChannelCarries) {
  create_topic("Readings", 1);
  auto registry = start_registry();
  send_readings("Readings", registry, 1);
  corps::ChannelRegistry channels;
  channels.bind<corps::proto::Image>("Readings", corps::WireFormat::confluent);
  auto options = consumer_options("", {"Readings"});
  options.schema_registry = client_of(registry);
  corps::Consumer consumer(channels, options);
  const auto records = corps::testing::consume(consumer, 1);
  ASSERT_EQ(records.size(), 1U);
  ASSERT_FALSE(records[0].ok());
  EXPECT_EQ(records[0].error().code(), corps::Errc::type_mismatch);
  EXPECT_EQ(records[0].error().stage(), corps::Stage::type);
  EXPECT_THAT_TEXT(records[0].error().message(), "carries corps.proto.Image");
  EXPECT_THAT_TEXT(records[0].error().message(), "header names corps_test.Reading");
}

// A channel of several types in MessageCorps's format: each record names
// its type in the corps-type header, which is written even when turned off.
TEST_F(RegistryTypes, AChannelOfSeveralTypesHandsEachRecordBackAsItsOwn) {
  create_topic("Mixed", 1);
  corps::ChannelRegistry channels;
  channels.bind_types<corps::proto::Image, corps::proto::Prediction>("Mixed");
  {
    auto options = producer_options();
    options.handler.type_header = corps::TypeHeader::off;
    corps::Producer producer(channels, options);
    const corps::Channel<corps::proto::Image> images("Mixed");
    const corps::Channel<corps::proto::Prediction> predictions("Mixed");
    for (int n = 0; n < 4; ++n) {
      if (n % 2 == 0) {
        corps::proto::Image image;
        image.set_frame(n);
        ASSERT_TRUE(producer.send(images, image).get().ok());
      } else {
        corps::proto::Prediction prediction;
        prediction.set_frame(n);
        ASSERT_TRUE(producer.send(predictions, prediction).get().ok());
      }
    }
    corps::proto::DeadLetter stranger;
    const auto refused = error_of([&] { (void)producer.send("Mixed", stranger); });
    EXPECT_EQ(refused.code(), corps::Errc::type_mismatch);
    EXPECT_THAT_TEXT(refused.message(),
                     "carries corps.proto.Image or corps.proto.Prediction, not "
                     "corps.proto.DeadLetter");
  }
  corps::Consumer consumer(channels, consumer_options("", {"Mixed"}));
  const auto records = corps::testing::consume(consumer, 4);
  ASSERT_EQ(records.size(), 4U);
  std::vector<std::string> seen;
  for (const auto& record : records) {
    ASSERT_TRUE(record.ok()) << record.error().to_string();
    EXPECT_NE(corps::find_header(record.headers(), corps::type_header), nullptr);
    const bool visited = corps::visit<corps::proto::Image, corps::proto::Prediction>(
        record,
        corps::overloaded{[&](const corps::proto::Image& image) {
                            seen.push_back("image " + std::to_string(image.frame()));
                          },
                          [&](const corps::proto::Prediction& prediction) {
                            seen.push_back("prediction " + std::to_string(prediction.frame()));
                          }});
    EXPECT_TRUE(visited);
    EXPECT_EQ(record.metadata().offset(), record.offset()) << "each type's own metadata field";
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"image 0", "prediction 1", "image 2", "prediction 3"}));
  EXPECT_FALSE(corps::visit<corps::proto::DeadLetter>(records[0], [](const auto&) {}));
}

TEST_F(RegistryTypes, ARecordOfAChannelOfSeveralTypesThatNamesNoneIsATypeError) {
  create_topic("Mixed", 1);
  corps::ChannelRegistry channels;
  channels.bind_types<corps::proto::Image, corps::proto::Prediction>("Mixed");
  corps::MessageHandler handler(channels);
  corps::proto::Image image;
  send_value("Mixed", std::string(handler.encode("Mixed", image)->value.view()));
  corps::Consumer consumer(channels, consumer_options("", {"Mixed"}));
  const auto records = corps::testing::consume(consumer, 1);
  ASSERT_EQ(records.size(), 1U);
  ASSERT_FALSE(records[0].ok());
  EXPECT_EQ(records[0].error().code(), corps::Errc::type_mismatch);
  EXPECT_EQ(records[0].error().stage(), corps::Stage::type);
  EXPECT_THAT_TEXT(records[0].error().message(),
                   "carries corps.proto.Image or corps.proto.Prediction, and the record names "
                   "none of them");
}

// In a schema registry's format, each type of the channel has its own
// subject (the record strategies) and id; the id picks the type.
TEST_F(RegistryTypes, AChannelOfSeveralTypesInTheRegistrysFormatHasAnIdPerType) {
  create_topic("Mixed", 1);
  auto registry = start_registry();
  corps::ChannelRegistry channels;
  channels.bind_types<corps::proto::Image, corps_test::Reading>("Mixed",
                                                                corps::WireFormat::confluent);
  auto options = producer_options();
  options.schema_registry.client = client_of(registry);
  const auto refused = error_of([&] { corps::Producer producer(channels, options); });
  EXPECT_EQ(refused.code(), corps::Errc::invalid_argument);
  EXPECT_THAT_TEXT(refused.message(), "SubjectNameStrategy::record");

  options.schema_registry.subject_name_strategy = corps::SubjectNameStrategy::topic_record;
  {
    corps::Producer producer(channels, options);
    corps::proto::Image image;
    image.set_frame(7);
    ASSERT_TRUE(producer.send(corps::Channel<corps::proto::Image>("Mixed"), image).get().ok());
    corps_test::Reading reading;
    reading.set_value(2.5);
    ASSERT_TRUE(producer.send(corps::Channel<corps_test::Reading>("Mixed"), reading).get().ok());
  }
  auto client = client_of(registry);
  const auto image_id = client->version("Mixed-corps.proto.Image").id;
  const auto reading_id = client->version("Mixed-corps_test.Reading").id;
  EXPECT_NE(image_id, reading_id);

  auto consumer_settings = consumer_options("", {"Mixed"});
  consumer_settings.schema_registry = client;
  corps::Consumer consumer(channels, consumer_settings);
  const auto records = corps::testing::consume(consumer, 2);
  ASSERT_EQ(records.size(), 2U);
  ASSERT_TRUE(records[0].ok()) << records[0].error().to_string();
  ASSERT_TRUE(records[1].ok()) << records[1].error().to_string();
  EXPECT_EQ(records[0].schema_id(), image_id);
  EXPECT_EQ(records[0].as<corps::proto::Image>().frame(), 7);
  EXPECT_EQ(records[1].schema_id(), reading_id);
  EXPECT_EQ(records[1].as<corps_test::Reading>().value(), 2.5);
}

}  // namespace
