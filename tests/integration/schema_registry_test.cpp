// The schema registry client against corps's embedded registry, on the
// embedded broker: registering files with their imports, ids that survive a
// restart, compatibility levels, and the typed errors of each failure.
#include "corps/schema_registry.hpp"

#include <gtest/gtest.h>

#include "corps/admin.hpp"
#include "corps/confluent_framing.hpp"
#include "corps/consumer.hpp"
#include "corps/embedded_schema_registry.hpp"
#include "corps/error.hpp"
#include "corps/image.pb.h"
#include "corps/message_handler.hpp"
#include "corps/producer.hpp"
#include "corps/testing/broker_test.hpp"
#include "corps_test/test_types.pb.h"
#include "support/expect.hpp"
#include "support/hang_guard.hpp"

namespace {

using namespace std::chrono_literals;
using corps_tests::error_of;

// Expects `text` to contain `part`.
#define EXPECT_THAT_TEXT(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

class SchemaRegistry : public corps::testing::BrokerTest {
 protected:
  corps::EmbeddedSchemaRegistry start_registry() {
    return corps::EmbeddedSchemaRegistry({.brokers = brokers(), .timeout = 20s});
  }
  static corps::SchemaRegistryClient client_of(const corps::EmbeddedSchemaRegistry& registry) {
    return corps::SchemaRegistryClient({.url = registry.url()});
  }
};

// A schema of one message, `fields` its body.
corps::Schema schema_with(const std::string& fields) {
  return {.schema = "syntax = \"proto3\";\npackage evolve;\nmessage Order {\n" + fields + "\n}\n"};
}

TEST_F(SchemaRegistry, RegistersAFileWithItsImportEachUnderItsOwnSubject) {
  auto registry = start_registry();
  auto client = client_of(registry);
  const auto& file = *corps::proto::Image::descriptor()->file();
  const auto id = client.register_file("Images-value", file);
  EXPECT_GT(id, 0);
  EXPECT_EQ(client.register_file("Images-value", file), id) << "the same schema keeps its id";
  EXPECT_EQ(client.subjects(), (std::vector<std::string>{"Images-value", "corps/metadata.proto"}));

  const auto latest = client.version("Images-value");
  EXPECT_EQ(latest.version, 1);
  EXPECT_EQ(latest.id, id);
  ASSERT_EQ(latest.schema.references.size(), 1U);
  EXPECT_EQ(latest.schema.references[0],
            (corps::SchemaReference{"corps/metadata.proto", "corps/metadata.proto", 1}));

  // Built again from the registry alone, with its import.
  const auto built = client.file_by_id(id);
  const auto* image = built->FindMessageTypeByName("Image");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->full_name(), "corps.proto.Image");
  const auto* metadata = image->FindFieldByName("message_data");
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ(metadata->message_type()->full_name(), "corps.proto.MessageData");

  // Its log is one partition, as Confluent's registry requires, on Kafka and
  // on the embedded broker alike (whose first request would make four).
  corps::Admin admin({.brokers = brokers(), .timeout = 10s});
  EXPECT_EQ(admin.describe_topic("_schemas").partitions.size(), 1U);
}

TEST_F(SchemaRegistry, ARegistryStoppedAsSoonAsItStartsStops) {
  // Its listener may not be running yet when the destructor stops it.
  corps_tests::HangGuard guard(60s, "a registry destroyed right after it started");
  for (int i = 0; i < 10; ++i) auto registry = start_registry();
}

TEST_F(SchemaRegistry, ARestartedRegistryHasEverySchemaUnderTheSameId) {
  std::int32_t id = 0;
  std::string url;
  {
    auto registry = start_registry();
    auto client = client_of(registry);
    id = client.register_schema("Orders-value", schema_with("string id = 1;"));
    client.set_compatibility(corps::CompatibilityLevel::full, "Orders-value");
  }
  auto registry = start_registry();
  auto client = client_of(registry);
  EXPECT_EQ(client.schema_by_id(id), schema_with("string id = 1;"));
  EXPECT_EQ(client.compatibility("Orders-value"), corps::CompatibilityLevel::full);
  EXPECT_EQ(client.register_schema("Orders-value", schema_with("string id = 1;")), id);
  const auto next =
      client.register_schema("Orders-value", schema_with("string id = 1;\nint64 cents = 2;"));
  EXPECT_GT(next, id) << "a new schema never takes an old id";
  EXPECT_EQ(client.version("Orders-value").version, 2);
}

// A write to _schemas whose outcome the registry could not learn (the broker
// took it but answered too late) may have landed. The id it named must not go
// to another schema: before, the next registration took the same id, and
// once read back from the topic that id named the first schema under both
// subjects. The registry now reads the topic to its end before it hands out
// an id, and reads its own write back before it answers.
class MockSchemaRegistry : public SchemaRegistry {};

TEST_F(MockSchemaRegistry, AWriteWhoseOutcomeIsUnknownNeverLeavesItsIdToAnotherSchema) {
  corps_tests::HangGuard guard(120s, "registering around a write whose outcome is unknown");
  const auto a = schema_with("string a = 1;");
  const auto b = schema_with("string b = 1;");
  std::int32_t b_id = 0;
  {
    corps::EmbeddedSchemaRegistry registry({.brokers = brokers(), .timeout = 2s});
    auto client = corps::SchemaRegistryClient({.url = registry.url(), .retries = 0});
    (void)client.register_schema("Warm-value", schema_with("string warm = 1;"));
    // The write of A lands; its acknowledgement comes 4 s later, after the
    // registry's 2 s.
    broker().push_request_delays(1, corps::KafkaApi::produce, {4s});
    EXPECT_THROW((void)client.register_schema("A-value", a), corps::Exception);
    b_id = client.register_schema("B-value", b);
    EXPECT_EQ(client.schema_by_id(b_id).schema, b.schema);
    // A landed: the registry read it back.
    EXPECT_EQ(client.subjects(), (std::vector<std::string>{"A-value", "B-value", "Warm-value"}));
    if (client.subjects().size() == 3) {
      const auto a_now = client.version("A-value");
      EXPECT_EQ(a_now.schema.schema, a.schema);
      EXPECT_NE(a_now.id, b_id) << "one id for two schemas";
      EXPECT_EQ(client.register_schema("A-value", a), a_now.id) << "A again keeps its id";
    }
  }
  // Read back from the topic by a registry started again.
  auto registry = start_registry();
  auto client = client_of(registry);
  EXPECT_EQ(client.schema_by_id(b_id).schema, b.schema);
  EXPECT_EQ(client.version("B-value").schema.schema, b.schema);
  EXPECT_EQ(client.version("A-value").schema.schema, a.schema);
  EXPECT_NE(client.version("A-value").id, b_id);
}

TEST_F(SchemaRegistry, BackwardRefusesAFieldNumberReusedWithAnotherType) {
  auto registry = start_registry();
  auto client = client_of(registry);
  (void)client.register_schema("Orders-value", schema_with("string id = 1;\nint64 cents = 2;"));
  const auto v3 = schema_with("string id = 1;\nstring cents = 2;");

  const auto problems = client.compatibility_problems("Orders-value", v3);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_THAT_TEXT(
      problems[0],
      "FIELD_SCALAR_KIND_CHANGED at evolve.Order field 2 'cents': int64 is now string");

  const auto error = error_of([&] { (void)client.register_schema("Orders-value", v3); });
  EXPECT_EQ(error.code(), corps::Errc::incompatible_schema);
  EXPECT_EQ(error.stage(), corps::Stage::schema);
  EXPECT_THAT_TEXT(error.message(), "Orders-value");
  EXPECT_THAT_TEXT(error.message(), "field 2 'cents': int64 is now string");
  EXPECT_EQ(client.version("Orders-value").version, 1) << "nothing was registered";

  // A new field is fine; under NONE anything is.
  EXPECT_TRUE(
      client
          .compatibility_problems("Orders-value",
                                  schema_with("string id = 1;\nint64 cents = 2;\nbool paid = 3;"))
          .empty());
  client.set_compatibility(corps::CompatibilityLevel::none, "Orders-value");
  EXPECT_GT(client.register_schema("Orders-value", v3), 0);
}

// FORWARD and FULL also compare the new version to the old, as Confluent's
// registry does: a new message, which BACKWARD accepts, is refused there,
// and so is a new required field.
TEST_F(SchemaRegistry, ForwardAndFullAlsoRefuseWhatOldReadersCannotRead) {
  auto registry = start_registry();
  auto client = client_of(registry);
  (void)client.register_schema("States", schema_with("string id = 1;"));
  const auto with_message = corps::Schema{.schema = schema_with("string id = 1;").schema +
                                                    "message Extra {\n  int32 n = 1;\n}\n"};
  EXPECT_TRUE(client.compatibility_problems("States", with_message).empty()) << "BACKWARD";
  for (const auto level : {corps::CompatibilityLevel::forward, corps::CompatibilityLevel::full}) {
    client.set_compatibility(level, "States");
    const auto problems = client.compatibility_problems("States", with_message);
    ASSERT_EQ(problems.size(), 1U) << corps::to_string(level);
    EXPECT_THAT_TEXT(problems[0], "MESSAGE_REMOVED at evolve.Extra");
  }
}

// The four changes an outside review found accepted (Confluent answers 409
// to each), refused through the REST API, each naming the field and the
// rule. Each was registered before the rules looked at labels and oneofs.
TEST_F(SchemaRegistry, LabelsAndOneofsAreJudgedAsConfluentJudgesThem) {
  auto registry = start_registry();
  auto client = client_of(registry);
  const auto proto2 = [](const std::string& fields) {
    return corps::Schema{.schema = "syntax = \"proto2\";\npackage evolve;\nmessage Order {\n" +
                                   fields + "\n}\n"};
  };
  struct Case {
    std::string subject;
    corps::Schema before;
    corps::Schema after;
    std::string named;
  };
  const std::vector<Case> cases{
      {"Repeated", proto2("optional int32 n = 1;"), proto2("repeated int32 n = 1;"),
       "FIELD_NUMERIC_LABEL_CHANGED at evolve.Order field 1 'n': optional int32 is now repeated "
       "int32"},
      {"Required", proto2("optional int32 n = 1;"), proto2("required int32 n = 1;"),
       "FIELD_NUMERIC_LABEL_CHANGED at evolve.Order field 1 'n': optional int32 is now required "
       "int32"},
      {"ExistingOneof", schema_with("int32 a = 1;\noneof o { int32 b = 2; }"),
       schema_with("oneof o { int32 a = 1; int32 b = 2; }"),
       "FIELD_MOVED_TO_EXISTING_ONEOF at evolve.Order oneof o"},
      {"NewOneof", schema_with("int32 a = 1;\nint32 b = 2;"),
       schema_with("oneof o { int32 a = 1; int32 b = 2; }"),
       "MULTIPLE_FIELDS_MOVED_TO_ONEOF at evolve.Order oneof o"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.subject);
    (void)client.register_schema(c.subject, c.before);
    const auto error = error_of([&] { (void)client.register_schema(c.subject, c.after); });
    EXPECT_EQ(error.code(), corps::Errc::incompatible_schema);
    EXPECT_THAT_TEXT(error.message(), c.named);
    EXPECT_EQ(client.version(c.subject).version, 1) << "nothing was registered";
  }
}

TEST_F(SchemaRegistry, FailuresAreTypedErrorsOfTheSchemaStage) {
  auto registry = start_registry();
  auto client = client_of(registry);
  auto error = error_of([&] { (void)client.schema_by_id(4242); });
  EXPECT_EQ(error.code(), corps::Errc::schema_not_found);
  EXPECT_EQ(error.stage(), corps::Stage::schema);
  EXPECT_THAT_TEXT(error.message(), "40403");

  error = error_of([&] { (void)client.version("Nobody-value"); });
  EXPECT_EQ(error.code(), corps::Errc::schema_not_found);
  EXPECT_THAT_TEXT(error.message(), "40401");

  error =
      error_of([&] { (void)client.register_schema("Bad-value", {.schema = "message { nope"}); });
  EXPECT_EQ(error.code(), corps::Errc::invalid_schema);
  EXPECT_THAT_TEXT(error.message(), "42201");

  error = error_of([&] {
    (void)client.register_schema("Refs-value",
                                 {.schema = "syntax = \"proto3\";\nimport \"dep.proto\";\n"
                                            "message A { Dep dep = 1; }\n",
                                  .references = {{"dep.proto", "dep.proto", 1}}});
  });
  EXPECT_EQ(error.code(), corps::Errc::invalid_schema);
  EXPECT_THAT_TEXT(error.message(), "'dep.proto' version 1, which is not registered");

  EXPECT_FALSE(client.find("Nobody-value", schema_with("string id = 1;")).has_value());
}

TEST_F(SchemaRegistry, CachedIdsOutliveTheRegistryAndAnUnreachableOneIsTyped) {
  std::int32_t id = 0;
  std::optional<corps::SchemaRegistryClient> client;
  {
    auto registry = start_registry();
    client.emplace(
        corps::SchemaRegistryOptions{.url = registry.url(), .request_timeout = 1s, .retries = 1});
    id = client->register_schema("Orders-value", schema_with("string id = 1;"));
    (void)client->file_by_id(id);
  }
  // The registry is gone; what the client has seen it still has.
  EXPECT_EQ(client->register_schema("Orders-value", schema_with("string id = 1;")), id);
  EXPECT_NE(client->file_by_id(id)->FindMessageTypeByName("Order"), nullptr);
  const auto error = error_of([&] { (void)client->schema_by_id(id + 1); });
  EXPECT_EQ(error.code(), corps::Errc::registry_unreachable);
  EXPECT_EQ(error.severity(), corps::Severity::retriable);
  EXPECT_THAT_TEXT(error.message(), "2 tries");
}

// Producers writing a schema registry's format: the schema registered (or
// refused) before anything is sent, records framed with its id.
class ConfluentChannel : public SchemaRegistry {
 protected:
  corps::ProducerOptions registry_producer_options(const corps::EmbeddedSchemaRegistry& registry) {
    auto options = producer_options();
    options.schema_registry.client = std::make_shared<corps::SchemaRegistryClient>(
        corps::SchemaRegistryOptions{.url = registry.url()});
    return options;
  }
};

TEST_F(ConfluentChannel, RecordsCarryTheRegisteredIdAndTheirMetadata) {
  create_topic("Images", 1);
  auto schema_registry = start_registry();
  corps::ChannelRegistry channels;
  const auto images = channels.bind<corps::proto::Image>("Images", corps::WireFormat::confluent);
  {
    corps::Producer producer(channels, registry_producer_options(schema_registry));
    for (int n = 0; n < 3; ++n) {
      corps::proto::Image image;
      image.set_frame(n);
      image.set_image_data("registered");
      ASSERT_TRUE(producer.send(images, image).get().ok());
    }
  }
  auto client = client_of(schema_registry);
  const auto registered = client.version("Images-value");
  EXPECT_EQ(registered.schema.references.size(), 1U) << "corps/metadata.proto, by reference";

  corps::Consumer consumer(channels, consumer_options("images", {"Images"}));
  const auto records = corps::testing::consume(consumer, 3);
  ASSERT_EQ(records.size(), 3U);
  for (std::size_t n = 0; n < records.size(); ++n) {
    const auto& record = records[n];
    ASSERT_TRUE(record.ok()) << record.error().to_string();
    EXPECT_EQ(record.framing(), corps::Framing::confluent);
    EXPECT_EQ(record.schema_id(), registered.id);
    EXPECT_EQ(corps::find_header(record.headers(), corps::codec_header), nullptr);
    EXPECT_EQ(record.as<corps::proto::Image>().frame(), static_cast<int>(n));
    EXPECT_EQ(record.metadata().uuid().size(), 36U) << "stamped in the message as always";
    EXPECT_EQ(record.metadata().offset(), static_cast<std::int64_t>(n));
    // The bytes: magic, id, the index path [0] as one byte, the message.
    const auto value = *record.value();
    EXPECT_EQ(value[0], '\0');
    EXPECT_EQ(value[5], '\0');
  }
}

TEST_F(ConfluentChannel, ATypeWithoutAMetadataFieldHasItsMetadataInAHeader) {
  create_topic("Notes", 1);
  auto schema_registry = start_registry();
  corps::ChannelRegistry channels;
  const auto error = error_of([&] { channels.bind<corps_test::NoMetadata>("Notes"); });
  EXPECT_EQ(error.code(), corps::Errc::no_metadata_field);
  EXPECT_THAT_TEXT(error.message(), "WireFormat::confluent");
  const auto notes = channels.bind<corps_test::NoMetadata>("Notes", corps::WireFormat::confluent);
  auto options = registry_producer_options(schema_registry);
  options.handler.metadata.sending_service = "note-taker";
  {
    corps::Producer producer(channels, options);
    corps_test::NoMetadata note;
    note.set_text("no field of its own");
    ASSERT_TRUE(producer.send(notes, note).get().ok());
  }
  corps::Consumer consumer(channels, consumer_options("notes", {"Notes"}));
  const auto records = corps::testing::consume(consumer, 1);
  ASSERT_EQ(records.size(), 1U);
  ASSERT_TRUE(records[0].ok()) << records[0].error().to_string();
  EXPECT_EQ(records[0].as<corps_test::NoMetadata>().text(), "no field of its own");
  ASSERT_NE(corps::find_header(records[0].headers(), corps::metadata_header), nullptr);
  const auto metadata = records[0].metadata();
  EXPECT_EQ(metadata.sending_service(), "note-taker");
  EXPECT_EQ(metadata.uuid().size(), 36U);
  EXPECT_EQ(metadata.trace_id().size(), 32U);
  EXPECT_EQ(metadata.offset(), 0);
  EXPECT_EQ(metadata.partition(), 0);
}

TEST_F(ConfluentChannel, AnIncompatibleSchemaIsRefusedBeforeAnythingIsSent) {
  create_topic("Notes", 1);
  auto schema_registry = start_registry();
  auto client = client_of(schema_registry);
  // Version 1 of the subject says field 1 is a number; NoMetadata says text.
  (void)client.register_schema("Notes-value",
                               {.schema = "syntax = \"proto3\";\npackage corps_test;\n"
                                          "message NoMetadata {\n  int64 text = 1;\n}\n"});
  corps::ChannelRegistry channels;
  (void)channels.bind<corps_test::NoMetadata>("Notes", corps::WireFormat::confluent);
  const auto error = error_of(
      [&] { corps::Producer producer(channels, registry_producer_options(schema_registry)); });
  EXPECT_EQ(error.code(), corps::Errc::incompatible_schema);
  EXPECT_EQ(error.stage(), corps::Stage::schema);
  EXPECT_THAT_TEXT(error.message(), "channel 'Notes'");
  EXPECT_THAT_TEXT(error.message(), "subject 'Notes-value'");
  EXPECT_THAT_TEXT(error.message(), "field 1 'text': int64 is now string");
  EXPECT_EQ(client.version("Notes-value").version, 1) << "nothing registered";
}

TEST_F(ConfluentChannel, WithoutAutoRegistrationTheSchemaMustBeThere) {
  auto schema_registry = start_registry();
  corps::ChannelRegistry channels;
  (void)channels.bind<corps_test::NoMetadata>("Notes", corps::WireFormat::confluent);
  auto options = registry_producer_options(schema_registry);
  options.schema_registry.auto_register = false;
  options.schema_registry.subject_name_strategy = corps::SubjectNameStrategy::record;
  auto error = error_of([&] { corps::Producer producer(channels, options); });
  EXPECT_EQ(error.code(), corps::Errc::schema_not_found);
  EXPECT_THAT_TEXT(error.message(), "is not registered under subject 'corps/metadata.proto'");

  auto client = client_of(schema_registry);
  (void)client.register_file("corps_test.NoMetadata",
                             *corps_test::NoMetadata::descriptor()->file());
  corps::Producer producer(channels, options);  // found, under the record strategy's subject
}

TEST_F(ConfluentChannel, AChannelInTheRegistrysFormatNeedsARegistry) {
  corps::ChannelRegistry channels;
  (void)channels.bind<corps_test::NoMetadata>("Notes", corps::WireFormat::confluent);
  const auto error = error_of([&] { corps::Producer producer(channels, producer_options()); });
  EXPECT_EQ(error.code(), corps::Errc::invalid_argument);
  EXPECT_EQ(error.stage(), corps::Stage::config);
  EXPECT_THAT_TEXT(error.message(), "ProducerOptions::schema_registry.client");

  // A bare MessageHandler has no registry to ask: its encode says so.
  corps::MessageHandler handler(channels);
  corps_test::NoMetadata note;
  const auto encoded = handler.encode("Notes", note);
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.error().stage(), corps::Stage::encode);
  EXPECT_THAT_TEXT(encoded.error().message(), "has no schema id");

  // Given an id (as a Producer is by the registry), it frames the record.
  handler.use_schema_id("Notes", corps_test::NoMetadata::descriptor(), 258);
  note.set_text("framed");
  const auto framed = handler.encode("Notes", note);
  ASSERT_TRUE(framed.ok()) << framed.error().to_string();
  EXPECT_EQ(framed->format, corps::WireFormat::confluent);
  const auto frame = corps::read_confluent_frame(framed->value.view());
  ASSERT_TRUE(frame.ok()) << frame.error().to_string();
  EXPECT_EQ(frame->schema_id, 258);
  EXPECT_EQ(frame->message_indexes, std::vector<int>{0});
  EXPECT_EQ(frame->payload, note.SerializeAsString());
  EXPECT_FALSE(framed->metadata.empty()) << "for the corps-metadata header";

  corps::ChannelRegistry plain;
  plain.bind<corps::proto::Image>("Images");
  corps::MessageHandler plain_handler(plain);
  const auto no_id = error_of(
      [&] { plain_handler.use_schema_id("Images", corps::proto::Image::descriptor(), 1); });
  EXPECT_EQ(no_id.code(), corps::Errc::invalid_argument);
  EXPECT_THAT_TEXT(no_id.message(), "WireFormat::confluent");
}

TEST(SchemaRegistryClient, RefusesAUrlThatIsNotHttp) {
  const auto error =
      error_of([] { corps::SchemaRegistryClient client({.url = "localhost:8081"}); });
  EXPECT_EQ(error.code(), corps::Errc::invalid_argument);
  EXPECT_THAT_TEXT(error.message(), "'localhost:8081' is not http:// or https://");
}

TEST(SchemaRegistryClient, NamesSubjectsAsConfluentsStrategiesDo) {
  using corps::SubjectNameStrategy;
  EXPECT_EQ(corps::subject_name(SubjectNameStrategy::topic, "Orders", "shop.Order"),
            "Orders-value");
  EXPECT_EQ(corps::subject_name(SubjectNameStrategy::record, "Orders", "shop.Order"), "shop.Order");
  EXPECT_EQ(corps::subject_name(SubjectNameStrategy::topic_record, "Orders", "shop.Order"),
            "Orders-shop.Order");
}

}  // namespace
