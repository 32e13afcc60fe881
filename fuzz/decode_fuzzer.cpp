// libFuzzer target: the consume-side decode path. Each input becomes one
// consumed record (channel, headers, key, value; see decode_input.hpp) that
// goes through MessageLoader::load, as in corps::Consumer, and then through
// `corps consume`'s printers.
//
// The contract checked on every input, beyond "no crash, no sanitizer report":
// - load() returns the channel's message, with the record's offset and
//   partition written into its metadata, or an Error at a decode stage
//   (type, headers, decompress, parse, metadata) with a code that belongs to
//   that stage and the record's coordinates; it never throws; exactly the
//   records its documented checks refuse before inflating are refused so;
// - its verdict on the value agrees with the codec library's own one-shot
//   decoder (zlib's uncompress2(), ZSTD_decompress on the first frame, an
//   LZ4F_decompress of the whole frame, or the bytes themselves for none),
//   and what it decodes is exactly the bytes that decoder does;
// - a loader that has decoded earlier records answers as a fresh one does;
// - the JSON line `corps consume` prints is one valid JSON object.
// A breach prints what was expected and aborts; libFuzzer saves the input.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "corps/codec.hpp"
#include "corps/confluent_framing.hpp"
#include "corps/dead_letter.pb.h"
#include "corps/image.pb.h"
#include "corps/message_loader.hpp"
#include "corps/metadata.hpp"
#include "corps/prediction.pb.h"
#include "corps/record.hpp"
#include "corps/testing/records.hpp"
#include "decode_input.hpp"
#include "dynamic_types.hpp"
#include "record_printer.hpp"

namespace {

namespace pb = google::protobuf;
using corps::Errc;
using corps::Error;
using corps::Stage;
using Decoded = corps::Result<std::unique_ptr<pb::Message>>;

// Arbitrary coordinates: checked to come back in the metadata and the errors.
constexpr std::int32_t record_partition = 3;
constexpr std::int64_t record_offset = 77;

[[noreturn]] void breach(const std::string& what) {
  std::fprintf(stderr, "decode_fuzzer: contract broken: %s\n", what.c_str());
  std::abort();
}

void expect(bool holds, const std::string& what) {
  if (!holds) breach(what);
}

std::string describe(const Decoded& decoded) {
  return decoded.ok() ? "decoded " + (*decoded)->GetTypeName() : decoded.error().to_string();
}

corps::ChannelRegistry make_registry() {
  using corps::fuzz::decode_channels;
  corps::ChannelRegistry registry;
  registry.bind<corps::proto::Prediction>(std::string(decode_channels[0]));
  registry.bind<corps::proto::Image>(std::string(decode_channels[1]));
  registry.bind<corps::proto::DeadLetter>(std::string(decode_channels[2]));
  const auto pool = corps::fuzz::dynamic_corps_types();
  registry.bind(std::string(decode_channels[3]), "corps.proto.Prediction", pool);
  registry.bind(std::string(decode_channels[4]), "corps.proto.Image", pool);
  return registry;
}

corps::LoaderOptions limits(bool small) {
  corps::LoaderOptions options;
  if (small) {
    options.max_decompressed_bytes = corps::fuzz::small_inflate_limit;
    options.max_headers = corps::fuzz::small_header_count_limit;
    options.max_header_bytes = corps::fuzz::small_header_bytes_limit;
  } else {
    options.max_decompressed_bytes = corps::fuzz::large_inflate_limit;
  }
  return options;
}

// A compressor for every codec, each framing every value (no value is sent
// as it is for being short).
std::vector<corps::PayloadCompressor> make_compressors() {
  std::vector<corps::PayloadCompressor> compressors;
  for (const corps::Codec codec :
       {corps::Codec::zlib, corps::Codec::none, corps::Codec::zstd, corps::Codec::lz4}) {
    compressors.emplace_back(corps::CodecOptions{.codec = codec, .uncompressed_below = 0});
  }
  return compressors;
}

// What lives across inputs, as it lives across records in a consumer.
struct Session {
  corps::ChannelRegistry registry = make_registry();
  corps::MessageLoader small_loader{registry, limits(true)};
  corps::MessageLoader large_loader{registry, limits(false)};
  std::vector<corps::PayloadCompressor> compressors = make_compressors();  // by Codec
  corps::PayloadDecompressor decompressor;
  std::string inflated;
  std::vector<Bytef> reference = std::vector<Bytef>(corps::fuzz::large_inflate_limit + 1);
};

// The codec the record's corps-codec header names, zlib without one; nullopt
// if it names none corps knows.
std::optional<corps::Codec> codec_of(const corps::fuzz::DecodeInput& input) {
  if (!input.headers) return corps::Codec::zlib;
  const auto* named = corps::find_header(*input.headers, corps::codec_header);
  if (named == nullptr) return corps::Codec::zlib;
  if (!named->value) return std::nullopt;
  return corps::parse_codec(*named->value);
}

// Whether the loader reads `value` as framed for a schema registry: no
// corps-codec header, and byte 0 first.
bool confluent_framed(const corps::fuzz::DecodeInput& input, std::string_view value) {
  const bool codec_named =
      input.headers && corps::find_header(*input.headers, corps::codec_header) != nullptr;
  return !codec_named && !value.empty() && value.front() == corps::confluent_magic_byte;
}

// A code that the stage can report for a record, per message_loader.hpp.
bool belongs_to(Stage stage, Errc code) {
  if (stage == Stage::type) return code == Errc::unknown_channel || code == Errc::type_mismatch;
  if (stage == Stage::headers) return code == Errc::too_large;
  if (stage == Stage::decompress) {
    return code == Errc::empty_value || code == Errc::corrupt_data ||
           code == Errc::truncated_data || code == Errc::trailing_data || code == Errc::too_large ||
           code == Errc::unsupported;
  }
  if (stage == Stage::framing) {
    return code == Errc::corrupt_data || code == Errc::truncated_data || code == Errc::too_large;
  }
  if (stage == Stage::parse) return code == Errc::parse_failed;
  if (stage == Stage::metadata) return code == Errc::missing_metadata;
  return false;
}

// A refusal before any byte is inflated.
struct EarlyFailure {
  Stage stage;
  Errc code;
};

// What the channel, header and type checks must refuse, in their order.
std::optional<EarlyFailure> expected_early_failure(const corps::fuzz::DecodeInput& input,
                                                   const corps::ChannelBinding* binding,
                                                   const corps::LoaderOptions& options) {
  if (binding == nullptr) return EarlyFailure{Stage::type, Errc::unknown_channel};
  if (input.headers) {
    std::size_t bytes = 0;
    for (const auto& header : *input.headers) {
      bytes += header.name.size() + (header.value ? header.value->size() : 0);
    }
    if (input.headers->size() > options.max_headers || bytes > options.max_header_bytes) {
      return EarlyFailure{Stage::headers, Errc::too_large};
    }
    const auto* codec = corps::find_header(*input.headers, corps::codec_header);
    if (codec != nullptr && !(codec->value && corps::parse_codec(*codec->value))) {
      return EarlyFailure{Stage::decompress, Errc::unsupported};
    }
    const auto* declared = corps::find_header(*input.headers, corps::type_header);
    if (declared != nullptr && declared->value &&
        *declared->value != binding->type()->full_name()) {
      return EarlyFailure{Stage::type, Errc::type_mismatch};
    }
  }
  return std::nullopt;
}

void check_shape(const corps::fuzz::DecodeInput& input, const corps::ChannelBinding* binding,
                 const corps::LoaderOptions& options, std::string_view value,
                 const Decoded& decoded) {
  const auto early_failure = expected_early_failure(input, binding, options);
  if (decoded.ok()) {
    expect(!early_failure && !value.empty(), "decoded a record that the early checks refuse");
    const pb::Message& message = **decoded;
    expect(
        message.GetDescriptor() == binding->type(),
        "decoded a " + message.GetTypeName() + " on a channel of " + binding->type()->full_name());
    // A schema registry's serializers stamp no corps metadata.
    const bool has_metadata = message.GetReflection()->HasField(message, binding->metadata_field());
    expect(has_metadata || confluent_framed(input, value), "decoded a message without metadata");
    if (!has_metadata) return;
    const auto metadata = corps::read_metadata(message, binding->metadata_field());
    expect(metadata.offset() == record_offset && metadata.partition() == record_partition,
           "the metadata says offset " + std::to_string(metadata.offset()) + ", partition " +
               std::to_string(metadata.partition()) + "; the record's are 77 and 3");
    return;
  }
  const Error& error = decoded.error();
  expect(belongs_to(error.stage(), error.code()), "not a decode failure: " + error.to_string());
  expect(error.location() == corps::RecordLocation{std::string(corps::fuzz::channel_name(input)),
                                                   record_partition, record_offset},
         "the error does not name the record: " + error.to_string());
  expect(!error.message().empty(), "an error without a message: " + error.to_string());
  if (early_failure) {
    expect(error.stage() == early_failure->stage && error.code() == early_failure->code,
           "expected " + std::string(corps::to_string(early_failure->stage)) + " error (" +
               std::string(corps::to_string(early_failure->code)) + "), got " + error.to_string());
    return;
  }
  expect(error.stage() != Stage::type && error.stage() != Stage::headers,
         "an early failure the checks do not call for: " + error.to_string());
  expect((error.code() == Errc::empty_value) == value.empty(),
         "empty_value for a " + std::to_string(value.size()) +
             "-byte value, or the reverse: " + error.to_string());
}

// What a codec library's own decoder made of a value: the bytes, or why not.
struct Reference {
  bool decoded = false;
  std::size_t size = 0;    // bytes decoded, in Session::reference
  bool too_large = false;  // more than the limit
  bool trailing = false;   // decoded, with bytes after the frame
  std::string says;        // for the breach message
};

Reference zlib_reference(Session& session, std::string_view value, std::size_t limit) {
  uLongf produced = limit;
  uLong consumed = value.size();
  const int rc = uncompress2(session.reference.data(), &produced,
                             reinterpret_cast<const Bytef*>(value.data()), &consumed);
  Reference r;
  r.decoded = rc == Z_OK;
  r.size = produced;
  r.trailing = rc == Z_OK && consumed < value.size();
  r.too_large = rc == Z_BUF_ERROR && produced == limit;
  r.says = "zlib: rc " + std::to_string(rc) + ", " + std::to_string(consumed) + " of " +
           std::to_string(value.size()) + " bytes read, " + std::to_string(produced) + " inflated";
  return r;
}

Reference zstd_reference(Session& session, std::string_view value, std::size_t limit) {
  Reference r;
  // A frame that declares more than the limit may be refused so before any
  // of it is decoded (payload_codec.cpp does), whatever follows its header.
  const unsigned long long declared = ZSTD_getFrameContentSize(value.data(), value.size());
  const bool declares_too_much = declared != ZSTD_CONTENTSIZE_UNKNOWN &&
                                 declared != ZSTD_CONTENTSIZE_ERROR && declared > limit;
  const std::size_t frame = ZSTD_findFrameCompressedSize(value.data(), value.size());
  if (ZSTD_isError(frame)) {
    r.too_large = declares_too_much;
    r.says = std::string("zstd: ") + ZSTD_getErrorName(frame);
    return r;
  }
  std::size_t rc = ZSTD_decompress(session.reference.data(), limit + 1, value.data(), frame);
  if (ZSTD_isError(rc) && ZSTD_getErrorCode(rc) == ZSTD_error_corruption_detected) {
    // zstd's two decoders disagree on some frames (a compressed block of
    // size 0: the one-shot decoder calls it corrupt, the streaming one an
    // empty block). corps streams: its verdict is judged against that one.
    ZSTD_DCtx* context = ZSTD_createDCtx();
    ZSTD_inBuffer in{value.data(), frame, 0};
    ZSTD_outBuffer out{session.reference.data(), limit + 1, 0};
    const std::size_t streamed = ZSTD_decompressStream(context, &out, &in);
    ZSTD_freeDCtx(context);
    if (streamed == 0 && in.pos == frame) rc = out.pos;
  }
  if (ZSTD_isError(rc)) {
    r.too_large = declares_too_much || ZSTD_getErrorCode(rc) == ZSTD_error_dstSize_tooSmall;
    r.says = std::string("zstd: ") + ZSTD_getErrorName(rc);
    return r;
  }
  r.too_large = rc > limit || declares_too_much;
  r.decoded = !r.too_large;
  r.size = rc;
  r.trailing = frame < value.size();
  r.says = "zstd: " + std::to_string(rc) + " bytes from a " + std::to_string(frame) +
           "-byte frame of " + std::to_string(value.size());
  return r;
}

Reference lz4_reference(Session& session, std::string_view value, std::size_t limit) {
  Reference r;
  LZ4F_dctx* context = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) {
    breach("cannot create an lz4 context");
  }
  std::size_t written = limit + 1;
  std::size_t read = value.size();
  const std::size_t rc =
      LZ4F_decompress(context, session.reference.data(), &written, value.data(), &read, nullptr);
  LZ4F_freeDecompressionContext(context);
  if (LZ4F_isError(rc)) {
    r.says = std::string("lz4: ") + LZ4F_getErrorName(rc);
    return r;
  }
  r.too_large = written > limit;
  r.decoded = rc == 0 && !r.too_large;  // 0: the frame is complete
  r.size = written;
  r.trailing = r.decoded && read < value.size();
  r.says = "lz4: rc " + std::to_string(rc) + ", " + std::to_string(read) + " of " +
           std::to_string(value.size()) + " bytes read, " + std::to_string(written) + " decoded";
  return r;
}

Reference none_reference(Session& session, std::string_view value, std::size_t limit) {
  Reference r;
  r.too_large = value.size() > limit;
  r.decoded = !r.too_large;
  if (r.decoded) {
    std::memcpy(session.reference.data(), value.data(), value.size());
    r.size = value.size();
  }
  r.says = "none: " + std::to_string(value.size()) + " bytes";
  return r;
}

// Checks the loader's verdict on the value, and the codec's decoded bytes,
// against the codec library's own one-shot decoder.
void check_against_reference(Session& session, const corps::fuzz::DecodeInput& input,
                             std::string_view value, std::size_t limit, const Decoded& decoded) {
  if (value.empty()) return;
  const auto codec = codec_of(input);
  if (!codec) return;  // refused before decoding
  if (!decoded.ok() &&
      (decoded.error().stage() == Stage::type || decoded.error().stage() == Stage::headers)) {
    return;  // refused before decoding
  }
  if (confluent_framed(input, value)) {
    // No codec: the framing, then the message as it is.
    const auto frame = corps::read_confluent_frame(value);
    if (!frame.ok()) {
      expect(!decoded.ok() && decoded.error().stage() == Stage::framing &&
                 decoded.error().code() == frame.error().code(),
             "loader (" + describe(decoded) + ") and framing (" + frame.error().to_string() +
                 ") disagree");
    } else {
      expect(decoded.ok() || decoded.error().stage() != Stage::decompress,
             "a framed value refused as compressed: " + describe(decoded));
    }
    return;
  }
  Reference reference;
  switch (*codec) {
    case corps::Codec::zlib: reference = zlib_reference(session, value, limit); break;
    case corps::Codec::none: reference = none_reference(session, value, limit); break;
    case corps::Codec::zstd: reference = zstd_reference(session, value, limit); break;
    case corps::Codec::lz4: reference = lz4_reference(session, value, limit); break;
  }
  const std::string name(corps::to_string(*codec));
  const bool whole = reference.decoded && !reference.trailing;
  const bool decode_failed = !decoded.ok() && decoded.error().stage() == Stage::decompress;
  if (decode_failed) {
    const Errc code = decoded.error().code();
    // zstd refuses a frame whose window passes what the cap allows before
    // decoding it, which the one-shot decoder (no window) may decode.
    const bool window = *codec == corps::Codec::zstd && code == Errc::too_large &&
                        decoded.error().message().find("window") != std::string::npos;
    expect(!whole || window, "loader (" + describe(decoded) + ") refuses what " + reference.says);
    const bool agrees = code == Errc::trailing_data ? reference.trailing
                        : code == Errc::too_large   ? reference.too_large || window
                                                    : !reference.decoded;
    expect(agrees, "loader says " + decoded.error().to_string() + "; " + reference.says);
  } else {
    expect(whole, "loader (" + describe(decoded) + ") accepts what " + reference.says);
  }

  const corps::Status status =
      session.decompressor.decompress(*codec, value, session.inflated, limit);
  expect(status.ok() == !decode_failed, name + " codec disagrees with the loader: " +
                                            (status.ok() ? "ok" : status.error().to_string()));
  if (status.ok()) {
    expect(session.inflated.size() == reference.size &&
               std::memcmp(session.inflated.data(), session.reference.data(), reference.size) == 0,
           "the " + name + " codec decoded other bytes than " + reference.says);
  } else {
    expect(session.inflated.size() <= limit + 1, "the " + name + " codec kept more than its limit");
  }
}

// Equal messages, NaN included: a double the fuzzer set to NaN is equal to
// itself here, unlike under MessageDifferencer::Equals.
bool same(const pb::Message& a, const pb::Message& b) {
  pb::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  pb::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  return differencer.Compare(a, b);
}

void check_same_outcome(const Decoded& first, const Decoded& second) {
  if (first.ok() != second.ok()) {
    breach("a used loader says '" + describe(first) + "', a fresh one '" + describe(second) + "'");
  }
  if (first.ok()) {
    expect(same(**first, **second), "a used loader and a fresh one decoded different messages");
  } else {
    expect(first.error().to_string() == second.error().to_string(),
           "a used loader says '" + first.error().to_string() + "', a fresh one '" +
               second.error().to_string() + "'");
  }
}

// `corps consume` prints every record, decoded or not, in each format.
void print_as_consume_does(const corps::fuzz::DecodeInput& input, std::string_view value,
                           const corps::ChannelBinding* binding, Decoded decoded) {
  const corps::Record record = corps::testing::make_record(
      {corps::RecordLocation{std::string(corps::fuzz::channel_name(input)), record_partition,
                             record_offset},
       input.key, input.null_value ? std::nullopt : std::optional<std::string>(value),
       input.headers.value_or(corps::Headers{}), 1700000000000},
      std::move(decoded), binding);

  std::ostringstream json;
  corps::cli::RecordPrinter(json, json, corps::cli::OutputFormat::json).print(record);
  const std::string line = json.str();
  expect(!line.empty() && line.back() == '\n' && line.find('\n') == line.size() - 1,
         "the JSON output is not one line: " + line);
  pb::Struct parsed;
  expect(pb::util::JsonStringToMessage(line, &parsed).ok() && parsed.fields_size() > 0,
         "the JSON output is not a JSON object: " + line);

  // --raw: every record, decoded or not, prints its bytes as one JSON line.
  std::ostringstream raw;
  corps::cli::RecordPrinter(raw, raw, corps::cli::OutputFormat::json, {},
                            corps::cli::ValueShown::raw)
      .print(record);
  expect(pb::util::JsonStringToMessage(raw.str(), &parsed).ok(),
         "the raw JSON output is not a JSON object: " + raw.str());

  std::ostringstream text;
  corps::cli::RecordPrinter(text, text, corps::cli::OutputFormat::text).print(record);
  std::ostringstream formatted;
  corps::cli::RecordPrinter(formatted, formatted, corps::cli::OutputFormat::format_string,
                            "%t %p %o %k %s %S %h %T %y %u %i %e %% %q %\\n")
      .print(record);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Session session;
  const auto input = corps::fuzz::read_decode_input({reinterpret_cast<const char*>(data), size});
  try {
    std::string value = input.value;
    if (input.compress && !input.null_value) {
      const auto codec = codec_of(input).value_or(corps::Codec::zlib);
      auto compressed = session.compressors[static_cast<std::size_t>(codec)].compress(value);
      expect(compressed.ok(), "could not compress a " + std::to_string(value.size()) +
                                  "-byte value as " + std::string(corps::to_string(codec)));
      value = std::string(compressed->view());
    }
    const std::string_view topic = corps::fuzz::channel_name(input);
    const corps::RawRecord raw{topic,
                               record_partition,
                               record_offset,
                               input.null_value ? nullptr : value.data(),
                               input.null_value ? 0 : value.size(),
                               input.headers ? &*input.headers : nullptr};
    const corps::LoaderOptions options = limits(input.small_limits);
    auto& loader = input.small_limits ? session.small_loader : session.large_loader;

    Decoded decoded = loader.load(raw);
    const auto* binding = session.registry.find(topic);
    const std::string_view seen = input.null_value ? std::string_view() : std::string_view(value);
    check_shape(input, binding, options, seen, decoded);
    check_against_reference(session, input, seen, options.max_decompressed_bytes, decoded);
    corps::MessageLoader fresh(session.registry, options);
    check_same_outcome(decoded, fresh.load(raw));
    print_as_consume_does(input, seen, binding, std::move(decoded));
  } catch (const std::exception& e) {
    breach(std::string("an exception escaped: ") + e.what());
  }
  return 0;
}
