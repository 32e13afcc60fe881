// libFuzzer target: the text `corps produce` reads, through the very
// function it calls (tools/corps/message_input.hpp).
//
//   byte 0     bit 0 the syntax (0 JSON, 1 protobuf text format); bits 1-3
//              the channel type (input_types, modulo its size)
//   the rest   the text
//
// The contract checked on every input, beyond "no crash, no sanitizer report":
// parse_message() accepts the text or says why not, and never throws; and a
// message it accepts is one `corps produce` can send and every reader can
// decode: it serializes, its bytes parse back into an equal message, and
// what `corps consume` prints of it (JSON and text) reads back the same.
// A breach prints what was expected and aborts; libFuzzer saves the input.
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "corps/dead_letter.pb.h"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "dynamic_types.hpp"
#include "message_input.hpp"

namespace {

namespace pb = google::protobuf;
using corps::cli::InputSyntax;

[[noreturn]] void breach(const std::string& what) {
  std::fprintf(stderr, "cli_input_fuzzer: contract broken: %s\n", what.c_str());
  std::abort();
}

void expect(bool holds, const std::string& what) {
  if (!holds) breach(what);
}

// The types a channel can carry in the tool: corps's generated ones, and the
// same types as dynamic messages, as with `--proto`.
struct InputTypes {
  std::shared_ptr<const pb::DescriptorPool> pool = corps::fuzz::dynamic_corps_types();
  pb::DynamicMessageFactory factory{pool.get()};
  std::array<const pb::Message*, 5> prototypes{
      &corps::proto::Prediction::default_instance(),
      &corps::proto::Image::default_instance(),
      &corps::proto::DeadLetter::default_instance(),
      factory.GetPrototype(pool->FindMessageTypeByName("corps.proto.Prediction")),
      factory.GetPrototype(pool->FindMessageTypeByName("corps.proto.DeadLetter")),
  };
};

// Equality as a reader sees it: NaN is the value NaN, not "unequal to all",
// and a proto3 field at its default is the same as an absent one (-0.0 is
// kept on the wire, but JSON and text may give it back as absent).
bool same(const pb::Message& a, const pb::Message& b) {
  pb::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  pb::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  differencer.set_message_field_comparison(pb::util::MessageDifferencer::EQUIVALENT);
  return differencer.Compare(a, b);
}

// `corps consume`'s JSON (record_printer.cpp prints messages so) and text.
std::string as_json(const pb::Message& message) {
  std::string json;
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const auto status = pb::util::MessageToJsonString(message, &json, options);
  expect(status.ok(), "cannot print an accepted message as JSON: " + std::string(status.message()));
  return json;
}

std::string as_text(const pb::Message& message) {
  std::string text;
  expect(pb::TextFormat::PrintToString(message, &text), "cannot print an accepted message as text");
  return text;
}

void check_reads_back(const pb::Message& original, std::string_view printed, InputSyntax syntax,
                      const char* how) {
  std::unique_ptr<pb::Message> again(original.New());
  const auto error = corps::cli::parse_message(printed, syntax, *again);
  expect(!error, std::string("corps produce refuses what corps consume prints as ") + how + ": " +
                     error.value_or("") + "\nprinted: " + std::string(printed));
  expect(same(original, *again),
         std::string("printed as ") + how + " and read back, the message changed:\nbefore: " +
             original.ShortDebugString() + "\nafter:  " + again->ShortDebugString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static InputTypes types;
  if (size == 0) return 0;
  const InputSyntax syntax = (data[0] & 1) != 0 ? InputSyntax::text : InputSyntax::json;
  const pb::Message& prototype = *types.prototypes[(data[0] >> 1) % types.prototypes.size()];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    std::unique_ptr<pb::Message> message(prototype.New());
    if (corps::cli::parse_message(text, syntax, *message)) return 0;  // refused, with a reason

    std::string bytes;
    expect(message->SerializeToString(&bytes), "an accepted message does not serialize");
    std::unique_ptr<pb::Message> decoded(prototype.New());
    expect(decoded->ParseFromString(bytes),
           "an accepted message serializes to bytes that no reader can parse: " +
               message->ShortDebugString());
    expect(same(*message, *decoded), "an accepted message changes on the wire");

    check_reads_back(*message, as_json(*message), InputSyntax::json, "JSON");
    check_reads_back(*message, as_text(*message), InputSyntax::text, "text");
  } catch (const std::exception& e) {
    breach(std::string("an exception escaped: ") + e.what());
  }
  return 0;
}
