// Interoperability with clients no one here wrote: Python's kafka-python and
// confluent-kafka, decoding as MessageCorps does (zlib.decompress +
// ParseFromString), and MessageCorps-style records read by corps.
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "corps/confluent_framing.hpp"
#include "corps/corps.hpp"
#include "corps/embedded_schema_registry.hpp"
#include "corps/image.pb.h"
#include "corps/schema_registry.hpp"
#include "corps/testing/broker_test.hpp"
#include "messagecorps/image.pb.h"
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
      // W3C trace context, as OpenTelemetry's instrumentations read it.
      EXPECT_EQ(
          field(read, "headers").struct_value().fields().at("traceparent").string_value(),
          "00-" + metadata.trace_id() + "-" + corps::span_id_of_uuid(metadata.uuid()) + "-01");
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

// A trace started by an instrumented Python producer (a traceparent header,
// no trace_id in the metadata) goes on through a corps service, whose
// handler sends while handling the record, and back to Python: the same
// trace id throughout, the corps record with a span of its own and the
// Python record's span as its parent.
TEST_F(Interop, ATraceFromAnInstrumentedPythonProducerGoesOnThroughCorpsAndBackToPython) {
  registry_.bind<corps::proto::Image>("Relayed");
  create_topic("Relayed", 1);
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string python_span = "00f067aa0ba902b7";
  const auto written = run_python_client("write --brokers " + brokers() +
                                         " --topic VideoStream --count 1 --traceparent 00-" +
                                         trace_id + "-" + python_span + "-01");
  ASSERT_EQ(written.exit_code, 0);

  corps::Consumer consumer(registry_, consumer_options("relay", {"VideoStream"}));
  corps::Producer producer(registry_, producer_options());
  std::string seen_trace_id;
  std::optional<corps::TraceContext> seen_context;
  const auto status = consumer.run([&](const corps::Record& record) {
    seen_trace_id = record.metadata().trace_id();
    seen_context = record.trace_context();
    corps::proto::Image relayed = record.as<corps::proto::Image>();
    relayed.clear_message_data();
    EXPECT_TRUE(producer.send("Relayed", relayed).get().ok());
    consumer.stop();
  });
  ASSERT_TRUE(status.ok()) << status.error().to_string();
  EXPECT_EQ(seen_trace_id, trace_id) << "filled from the header";
  ASSERT_TRUE(seen_context.has_value());
  EXPECT_EQ(seen_context->span_id, python_span);

  const auto read = run_python_client("read --client confluent-kafka --brokers " + brokers() +
                                      " --topic Relayed --count 1");
  ASSERT_EQ(read.exit_code, 0);
  ASSERT_EQ(read.lines.size(), 1u);
  const auto relayed = parse_json(read.lines[0]);
  EXPECT_EQ(field(relayed, "trace_id").string_value(), trace_id);
  const auto& headers = field(relayed, "headers").struct_value();
  const auto traceparent = headers.fields().at("traceparent").string_value();
  EXPECT_EQ(traceparent, "00-" + trace_id + "-" +
                             corps::span_id_of_uuid(field(relayed, "uuid").string_value()) + "-01");
  EXPECT_EQ(headers.fields().at("corps-parent-span").string_value(), python_span);
}

// Records that confluent-kafka for Python's ProtobufSerializer framed (its
// own code writes the bytes; a stand-in hands out the schema ids a registry
// would), read typed by a corps consumer. Image is the first message of its
// file; Prediction the second, whose indexes Python 1.7.0 writes as plain
// varints (01 01), not Confluent's zigzag.
TEST_F(Interop, CorpsReadsRecordsPythonsProtobufSerializerFramed) {
  create_topic("FramedImages", 1);
  create_topic("FramedPredictions", 1);
  const auto outcome = corps_tests::run_command("PYTHONPATH=" CORPS_TEST_PYTHON_DIR
                                                " /usr/bin/python3 " CORPS_TEST_INTEROP_DIR
                                                "/confluent_framing.py produce " +
                                                brokers() + " 3");
  ASSERT_EQ(outcome.exit_code, 0);
  ASSERT_EQ(outcome.lines.size(), 6U);
  // Ids: the import's subject got 100, each file's its own after it.
  EXPECT_TRUE(outcome.lines[0].starts_with("FramedImages 000000006500")) << outcome.lines[0];
  EXPECT_TRUE(outcome.lines[3].starts_with("FramedPredictions 00000000660101")) << outcome.lines[3];

  corps::ChannelRegistry registry;
  registry.bind<protobuf::image::Image>("FramedImages");
  registry.bind<protobuf::image::Prediction>("FramedPredictions");
  corps::Consumer consumer(registry,
                           consumer_options("framed", {"FramedImages", "FramedPredictions"}));
  const auto records = consume(consumer, 6);
  ASSERT_EQ(records.size(), 6U);
  for (const auto& record : records) {
    ASSERT_TRUE(record.ok()) << record.error().to_string();
    const int n = std::stoi(std::string(record.key().value_or("-1")));
    EXPECT_EQ(record.framing(), corps::Framing::confluent);
    EXPECT_EQ(record.schema_id(), record.topic() == "FramedImages" ? 101 : 102);
    if (record.topic() == "FramedImages") {
      const auto& image = record.as<protobuf::image::Image>();
      EXPECT_EQ(image.frame(), n);
      EXPECT_EQ(image.image_data(), "framed by python");
      EXPECT_EQ(image.width(), 7);
      EXPECT_FALSE(image.has__message_data()) << "nothing invented for it";
    } else {
      const auto& prediction = record.as<protobuf::image::Prediction>();
      EXPECT_EQ(prediction.frame(), n);
      EXPECT_EQ(std::vector<std::string>(prediction.object().begin(), prediction.object().end()),
                (std::vector<std::string>{"person", "car"}));
      EXPECT_FALSE(prediction.has__message_data());
    }
  }
}

}  // namespace

// Confluent's framing, against confluent-kafka for Python's own serializer
// and deserializer (1.7.0 on Debian bookworm: plain varint indexes).
TEST_F(Interop, PythonsSerializerRegistersInTheEmbeddedRegistryAndCorpsReadsWithIt) {
  create_topic("FramedImages", 1);
  create_topic("FramedPredictions", 1);
  corps::EmbeddedSchemaRegistry schema_registry({.brokers = brokers(), .timeout = 20s});
  const auto outcome = corps_tests::run_command("PYTHONPATH=" CORPS_TEST_PYTHON_DIR
                                                " /usr/bin/python3 " CORPS_TEST_INTEROP_DIR
                                                "/confluent_framing.py produce " +
                                                brokers() + " 2 " + schema_registry.url());
  ASSERT_EQ(outcome.exit_code, 0);

  // Python registered the import under its file name, then the file; both
  // topics carry the same file, so the same schema and id.
  corps::SchemaRegistryClient client({.url = schema_registry.url()});
  EXPECT_EQ(client.subjects(),
            (std::vector<std::string>{"FramedImages-value", "FramedPredictions-value",
                                      "messagecorps/common.proto"}));
  const auto images = client.version("FramedImages-value");
  ASSERT_EQ(images.schema.references.size(), 1U);
  EXPECT_EQ(images.schema.references[0].name, "messagecorps/common.proto");
  EXPECT_EQ(client.version("FramedPredictions-value").id, images.id);

  corps::ChannelRegistry registry;
  registry.bind<protobuf::image::Image>("FramedImages");
  registry.bind<protobuf::image::Prediction>("FramedPredictions");
  corps::Consumer consumer(registry,
                           consumer_options("registered", {"FramedImages", "FramedPredictions"}));
  const auto records = consume(consumer, 4);
  ASSERT_EQ(records.size(), 4U);
  // Python's schema (a base64 FileDescriptorProto with a reference), built
  // from the registry alone, names each record's type by its indexes.
  const auto file = client.file_by_id(images.id);
  for (const auto& record : records) {
    ASSERT_TRUE(record.ok()) << record.error().to_string();
    EXPECT_EQ(record.schema_id(), images.id);
    const auto frame = corps::read_confluent_frame(*record.value());
    ASSERT_TRUE(frame.ok());
    const auto* type = corps::message_at_path(*file, frame->message_indexes);
    ASSERT_NE(type, nullptr);
    EXPECT_EQ(type->full_name(), record.topic() == "FramedImages" ? "protobuf.image.Image"
                                                                  : "protobuf.image.Prediction");
  }
}

TEST_F(Interop, TheEmbeddedRegistryAnswersAsConfluentDocuments) {
  corps::EmbeddedSchemaRegistry schema_registry({.brokers = brokers(), .timeout = 20s});
  const auto outcome = corps_tests::run_command(
      "/usr/bin/python3 " CORPS_TEST_INTEROP_DIR "/registry_rest.py " + schema_registry.url());
  EXPECT_EQ(outcome.exit_code, 0) << (outcome.lines.empty() ? "" : outcome.lines.back());
  EXPECT_GE(outcome.lines.size(), 40U) << "every check ran";
}

TEST_F(Interop, PythonsDeserializerReadsWhatACorpsProducerFramed) {
  create_topic("CorpsPredictions", 1);
  corps::EmbeddedSchemaRegistry schema_registry({.brokers = brokers(), .timeout = 20s});
  corps::ChannelRegistry channels;
  const auto predictions =
      channels.bind<protobuf::image::Prediction>("CorpsPredictions", corps::WireFormat::confluent);
  auto options = producer_options();
  options.schema_registry.client = std::make_shared<corps::SchemaRegistryClient>(
      corps::SchemaRegistryOptions{.url = schema_registry.url()});
  // Prediction is its file's second message, [1]: confluent-kafka 1.7.0
  // reads the indexes as plain varints, so they are written so for it.
  options.schema_registry.index_encoding = corps::MessageIndexEncoding::plain;
  {
    corps::Producer producer(channels, options);
    for (int n = 0; n < 2; ++n) {
      protobuf::image::Prediction prediction;
      prediction.set_frame(n + 1);  // 0 would be left out of the JSON
      prediction.add_object("dog");
      ASSERT_TRUE(producer.send(predictions, prediction).get().ok());
    }
  }
  const auto outcome = corps_tests::run_command("PYTHONPATH=" CORPS_TEST_PYTHON_DIR
                                                " /usr/bin/python3 " CORPS_TEST_INTEROP_DIR
                                                "/confluent_framing.py consume " +
                                                brokers() + " CorpsPredictions Prediction 2");
  ASSERT_EQ(outcome.exit_code, 0);
  ASSERT_EQ(outcome.lines.size(), 2U);
  for (int n = 0; n < 2; ++n) {
    const auto object = parse_json(outcome.lines[n]);
    EXPECT_EQ(field(object, "frame").string_value(), std::to_string(n + 1)) << outcome.lines[n];
    EXPECT_EQ(field(object, "object").list_value().values(0).string_value(), "dog");
    // corps's metadata rides in the message, as MessageCorps's field.
    EXPECT_EQ(field(field(object, "_message_data").struct_value(), "uuid").string_value().size(),
              36U);
  }
}

namespace confluent {

Outcome run_framing_script(const std::string& arguments) {
  return corps_tests::run_command(
      "/usr/bin/python3 " CORPS_TEST_INTEROP_DIR "/confluent_framing.py " + arguments);
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 0xF];
  }
  return out;
}

std::string from_hex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16));
  }
  return out;
}

TEST(ConfluentFramingWithPython, CorpsWritesAndReadsTheIndexesPythonsSerializerWrites) {
  namespace pb = google::protobuf;
  const std::vector<const pb::Descriptor*> types = {
      pb::FileDescriptorSet::descriptor(), pb::FileDescriptorProto::descriptor(),
      pb::DescriptorProto::ExtensionRange::descriptor(),
      pb::DescriptorProto::ReservedRange::descriptor(),
      pb::EnumDescriptorProto::EnumReservedRange::descriptor()};
  std::string names;
  for (const auto* type : types) names += " " + type->full_name();
  const auto outcome = run_framing_script("indexes" + names);
  ASSERT_EQ(outcome.exit_code, 0);
  ASSERT_EQ(outcome.lines.size(), types.size());
  for (std::size_t i = 0; i < types.size(); ++i) {
    const auto path = corps::message_index_path(*types[i]);
    std::string written;
    corps::append_confluent_prefix(written, 7, path, corps::MessageIndexEncoding::plain);
    EXPECT_EQ(outcome.lines[i], types[i]->full_name() + " " + hex(written.substr(5)));
    // Python's bytes, read back without being told their encoding.
    const std::string python_indexes =
        from_hex(outcome.lines[i].substr(outcome.lines[i].find(' ') + 1));
    const auto frame =
        corps::read_confluent_frame(std::string("\0\0\0\0\7", 5) + python_indexes + "\x08\x05");
    ASSERT_TRUE(frame.ok()) << frame.error().to_string();
    EXPECT_EQ(frame->message_indexes, path) << types[i]->full_name();
    EXPECT_EQ(corps::message_at_path(*types[i]->file(), frame->message_indexes), types[i]);
  }
}

TEST(ConfluentFramingWithPython, PythonsDeserializerReadsWhatCorpsFrames) {
  google::protobuf::DescriptorProto::ExtensionRange range;
  range.set_start(5);
  range.set_end(9);
  google::protobuf::FileDescriptorSet set;
  set.add_file()->set_name("a.proto");
  // The first message of its file reads the same in both encodings; a
  // nested one only in the plain encoding Python 1.7.0 reads.
  for (const auto& [type, payload] :
       {std::pair{google::protobuf::FileDescriptorSet::descriptor(), set.SerializeAsString()},
        std::pair{google::protobuf::DescriptorProto::ExtensionRange::descriptor(),
                  range.SerializeAsString()}}) {
    std::string value;
    corps::append_confluent_prefix(value, 3, corps::message_index_path(*type),
                                   corps::MessageIndexEncoding::plain);
    value += payload;
    const auto outcome = run_framing_script("decode " + type->full_name() + " " + hex(value));
    ASSERT_EQ(outcome.exit_code, 0);
    ASSERT_EQ(outcome.lines.size(), 1U);
    const auto object = parse_json(outcome.lines[0]);
    if (type == google::protobuf::FileDescriptorSet::descriptor()) {
      EXPECT_EQ(field(object, "file")
                    .list_value()
                    .values(0)
                    .struct_value()
                    .fields()
                    .at("name")
                    .string_value(),
                "a.proto");
    } else {
      EXPECT_EQ(field(object, "start").number_value(), 5);
      EXPECT_EQ(field(object, "end").number_value(), 9);
    }
  }
}

}  // namespace confluent
