// W3C trace context: the traceparent header's grammar, the headers a handler
// writes, a send that continues a trace, and a loader filling trace_id from
// a header an instrumented producer wrote.
#include "corps/trace_context.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "corps/image.pb.h"
#include "corps/message_handler.hpp"
#include "corps/message_loader.hpp"
#include "corps/testing/records.hpp"
#include "support/expect.hpp"

namespace {

using corps::TraceContext;

constexpr std::string_view trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view span_id = "00f067aa0ba902b7";
const std::string w3c_example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

corps::ChannelRegistry registry() {
  corps::ChannelRegistry r;
  r.bind<corps::proto::Image>("VideoStream");
  return r;
}

std::string header_value(const corps::EncodedRecord& encoded, std::string_view name) {
  for (const auto& [header, value] : encoded.headers()) {
    if (header == name) return std::string(value);
  }
  return "(absent)";
}

TEST(TraceContext, ReadsW3CsExampleTraceparent) {
  const auto context = corps::parse_traceparent(w3c_example);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(context->trace_id, trace_id);
  EXPECT_EQ(context->span_id, span_id);
  EXPECT_TRUE(context->sampled);
  EXPECT_EQ(corps::format_traceparent(*context), w3c_example);
  EXPECT_EQ(corps::traceparent_trace_id(w3c_example), trace_id);

  const auto unsampled = corps::parse_traceparent(w3c_example.substr(0, 53) + "00");
  ASSERT_TRUE(unsampled.has_value());
  EXPECT_FALSE(unsampled->sampled);
  EXPECT_EQ(corps::format_traceparent(*unsampled), w3c_example.substr(0, 53) + "00");
}

TEST(TraceContext, RefusesWhatW3CRefuses) {
  const std::vector<std::string> refused = {
      "",
      w3c_example.substr(0, 54),                                  // too short
      w3c_example + "-extra",                                     // version 00 has no more fields
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // separator
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",  // not hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",  // flags
  };
  for (const auto& value : refused) {
    EXPECT_FALSE(corps::parse_traceparent(value).has_value()) << value;
    EXPECT_TRUE(corps::traceparent_trace_id(value).empty()) << value;
  }
}

TEST(TraceContext, ReadsALaterVersionsFirstFieldsAsW3CSays) {
  const auto later = corps::parse_traceparent(
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-whatever-comes");
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->trace_id, trace_id);
  EXPECT_FALSE(
      corps::parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01xwhatever")
          .has_value());
}

TEST(TraceContext, ASpanIdIsSixteenHexDigitsHashedFromTheUuid) {
  const std::string uuid = "01937c4e-8f3a-7b2c-9d4e-5f6a7b8c9d0e";
  const auto span = corps::span_id_of_uuid(uuid);
  EXPECT_TRUE(corps::is_span_id(span)) << span;
  EXPECT_EQ(span, corps::span_id_of_uuid(uuid)) << "the same uuid names the same span";
  EXPECT_NE(span, corps::span_id_of_uuid("01937c4e-8f3a-7b2c-9d4e-5f6a7b8c9d0f"));
  EXPECT_TRUE(corps::is_span_id(corps::span_id_of_uuid("")));
}

TEST(TraceContext, MessageCorpsTraceIdsAreW3CTraceIds) {
  EXPECT_TRUE(corps::is_trace_id("a3f1c2d4e5f60718293a4b5c6d7e8f90"));
  EXPECT_TRUE(corps::is_trace_id("A3F1C2D4E5F60718293A4B5C6D7E8F90"));
  EXPECT_FALSE(corps::is_trace_id("a3f1c2d4-e5f6-0718-293a-4b5c6d7e8f90"));
  EXPECT_FALSE(corps::is_trace_id("00000000000000000000000000000000"));
  EXPECT_FALSE(corps::is_trace_id("abc"));
}

TEST(TraceContext, TheHandlerWritesTheMetadatasTraceAsATraceparentHeader) {
  corps::MessageHandler handler(registry());
  corps::proto::Image image;
  const auto encoded = handler.encode("VideoStream", image);
  ASSERT_TRUE(encoded.ok());
  const auto& metadata = image.message_data();
  EXPECT_EQ(header_value(*encoded, corps::traceparent_header),
            "00-" + metadata.trace_id() + "-" + corps::span_id_of_uuid(metadata.uuid()) + "-01");
  EXPECT_EQ(header_value(*encoded, corps::parent_span_header), "(absent)")
      << "a record that starts a trace has no parent";
}

TEST(TraceContext, ATraceIdThatIsNotW3CsGetsNoHeaderAndAnUpperCaseOneIsLowered) {
  corps::MessageHandler handler(registry());
  corps::proto::Image image;
  image.mutable_message_data()->set_trace_id("not-a-w3c-trace-id");
  auto encoded = handler.encode("VideoStream", image);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(header_value(*encoded, corps::traceparent_header), "(absent)");
  EXPECT_EQ(image.message_data().trace_id(), "not-a-w3c-trace-id") << "kept as the sender set it";

  image.mutable_message_data()->set_trace_id("4BF92F3577B34DA6A3CE929D0E0E4736");
  encoded = handler.encode("VideoStream", image);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(corps::traceparent_trace_id(header_value(*encoded, corps::traceparent_header)),
            trace_id);
}

TEST(TraceContext, TheHeaderIsLeftOutWhenTheOptionsSaySo) {
  corps::HandlerOptions options;
  options.trace_header = corps::TraceHeader::off;
  corps::MessageHandler handler(registry(), options);
  corps::proto::Image image;
  const auto encoded = handler.encode("VideoStream", image);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(header_value(*encoded, corps::traceparent_header), "(absent)");
  EXPECT_EQ(image.message_data().trace_id().size(), 32u) << "the metadata's trace id stays";
}

TEST(TraceContext, ASendInsideAScopeContinuesItsTraceWithItsSpanAsParent) {
  corps::MessageHandler handler(registry());
  corps::proto::Image outside;
  ASSERT_TRUE(handler.encode("VideoStream", outside).ok());
  {
    const corps::TraceScope scope(TraceContext{std::string(trace_id), std::string(span_id)});
    corps::proto::Image inside;
    const auto encoded = handler.encode("VideoStream", inside);
    ASSERT_TRUE(encoded.ok());
    EXPECT_EQ(inside.message_data().trace_id(), trace_id);
    const auto traceparent =
        corps::parse_traceparent(header_value(*encoded, corps::traceparent_header));
    ASSERT_TRUE(traceparent.has_value());
    EXPECT_EQ(traceparent->trace_id, trace_id);
    EXPECT_EQ(traceparent->span_id, corps::span_id_of_uuid(inside.message_data().uuid()))
        << "the new record has a span of its own";
    EXPECT_EQ(header_value(*encoded, corps::parent_span_header), span_id);

    // A message given a trace of its own starts it: no parent.
    corps::proto::Image elsewhere;
    elsewhere.mutable_message_data()->set_trace_id("a3f1c2d4e5f60718293a4b5c6d7e8f90");
    const auto own = handler.encode("VideoStream", elsewhere);
    ASSERT_TRUE(own.ok());
    EXPECT_EQ(header_value(*own, corps::parent_span_header), "(absent)");
  }
  EXPECT_EQ(corps::current_trace(), nullptr) << "the scope ended with its block";
  corps::proto::Image after;
  ASSERT_TRUE(handler.encode("VideoStream", after).ok());
  EXPECT_NE(after.message_data().trace_id(), trace_id);
  EXPECT_NE(after.message_data().trace_id(), outside.message_data().trace_id())
      << "a send outside any scope starts a trace";
}

TEST(TraceContext, ScopesNestAndEachRestoresTheOneItHid) {
  const corps::TraceScope outer(TraceContext{std::string(trace_id), std::string(span_id)});
  {
    const corps::TraceScope inner(
        TraceContext{"a3f1c2d4e5f60718293a4b5c6d7e8f90", "1111111111111111"});
    ASSERT_NE(corps::current_trace(), nullptr);
    EXPECT_EQ(corps::current_trace()->span_id, "1111111111111111");
  }
  ASSERT_NE(corps::current_trace(), nullptr);
  EXPECT_EQ(corps::current_trace()->span_id, span_id);
}

TEST(TraceContext, TheLoaderFillsAnEmptyTraceIdFromTheHeaderAndKeepsASetOne) {
  corps::MessageHandler handler(registry(), {});
  corps::MessageLoader loader(registry());
  corps::proto::Image image;
  image.mutable_message_data()->set_trace_id("a3f1c2d4e5f60718293a4b5c6d7e8f90");
  auto encoded = handler.encode("VideoStream", image);
  ASSERT_TRUE(encoded.ok());
  const std::string stamped(encoded->value.view());
  const corps::Headers foreign{{"traceparent", w3c_example}};
  auto kept = loader.load({"VideoStream", 0, 5, stamped.data(), stamped.size(), &foreign});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(dynamic_cast<const corps::proto::Image&>(**kept).message_data().trace_id(),
            "a3f1c2d4e5f60718293a4b5c6d7e8f90");

  // What an instrumented producer that knows no metadata sends: a trace
  // only in the header.
  corps::proto::Image bare;
  bare.mutable_message_data()->set_uuid("u-1");
  const std::string value = corps_tests::python_zlib_compress(bare.SerializeAsString());
  auto filled = loader.load({"VideoStream", 0, 6, value.data(), value.size(), &foreign});
  ASSERT_TRUE(filled.ok()) << filled.error().to_string();
  const auto& metadata = dynamic_cast<const corps::proto::Image&>(**filled).message_data();
  EXPECT_EQ(metadata.trace_id(), trace_id);
  EXPECT_EQ(metadata.offset(), 6);

  const corps::Headers broken{{"traceparent", "00-zz"}};
  auto untouched = loader.load({"VideoStream", 0, 7, value.data(), value.size(), &broken});
  ASSERT_TRUE(untouched.ok());
  EXPECT_EQ(dynamic_cast<const corps::proto::Image&>(**untouched).message_data().trace_id(), "");
}

TEST(TraceContext, ARecordsTraceComesFromItsHeaderOrElseItsMetadata) {
  const auto channels = registry();
  const auto* binding = &channels.at("VideoStream");
  auto image = std::make_unique<corps::proto::Image>();
  image->mutable_message_data()->set_trace_id("A3F1C2D4E5F60718293A4B5C6D7E8F90");
  image->mutable_message_data()->set_uuid("5f2b3a0e-0b1c-11ef-9a1b-0242ac120002");
  const auto without_header = corps::testing::make_record(
      {.location = {"VideoStream", 0, 1}},
      std::unique_ptr<google::protobuf::Message>(std::make_unique<corps::proto::Image>(*image)),
      binding);
  const auto from_metadata = without_header.trace_context();
  ASSERT_TRUE(from_metadata.has_value());
  EXPECT_EQ(from_metadata->trace_id, "a3f1c2d4e5f60718293a4b5c6d7e8f90");
  EXPECT_EQ(from_metadata->span_id, corps::span_id_of_uuid(image->message_data().uuid()));
  EXPECT_EQ(from_metadata->parent_span_id, "");

  const auto with_headers = corps::testing::make_record(
      {.location = {"VideoStream", 0, 2},
       .headers = {{"traceparent", w3c_example}, {"corps-parent-span", "1111111111111111"}}},
      std::unique_ptr<google::protobuf::Message>(std::move(image)), binding);
  const auto from_header = with_headers.trace_context();
  ASSERT_TRUE(from_header.has_value());
  EXPECT_EQ(from_header->trace_id, trace_id);
  EXPECT_EQ(from_header->span_id, span_id);
  EXPECT_EQ(from_header->parent_span_id, "1111111111111111");

  const auto failed = corps::testing::make_record(
      {.location = {"VideoStream", 0, 3}},
      corps::Error(corps::Errc::parse_failed, corps::Stage::parse, "bad"), binding);
  EXPECT_FALSE(failed.trace_context().has_value());
}

}  // namespace
