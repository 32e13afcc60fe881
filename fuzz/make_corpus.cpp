// Writes the fuzzers' seed corpora: `fuzz_make_corpus DIR` fills DIR/decode/,
// DIR/dead_letter/ and DIR/cli_input/ (the committed copies are in fuzz/corpus/; regenerate
// them with `scripts/fuzz.sh --make-corpus`). Records made by MessageHandler
// carry a fresh uuid and time, so regenerated files differ in those bytes.
//
// The seeds give libFuzzer a start at every outcome: records that decode on
// every channel, MessageCorps's (no headers), every decode error (truncated,
// trailing bytes, corrupt, a bomb, a preset dictionary, gzip, raw deflate,
// not protobuf, no metadata, wrong type header, unbound channel, empty and
// null values), and JSON and text messages of each type, good and bad.
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "corps/codec.hpp"
#include "corps/confluent_framing.hpp"
#include "corps/dead_letter.pb.h"
#include "corps/image.pb.h"
#include "corps/message_handler.hpp"
#include "corps/prediction.pb.h"
#include "decode_input.hpp"
#include "support/fuzz_findings.hpp"

namespace {

namespace fs = std::filesystem;
using corps::fuzz::DecodeInput;

enum Channel : std::size_t {
  predictions,
  video_stream,
  dead_letters,
  dynamic_predictions,
  dynamic_images,
  unbound
};

void write_file(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

// A zlib-family stream of `data` with deflate's `window_bits` (15 zlib,
// -15 raw deflate, 31 gzip), optionally with a preset dictionary.
std::string deflate_with(const std::string& data, int level, int window_bits,
                         const std::string& dictionary = {}) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  if (!dictionary.empty()) {
    deflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(dictionary.data()),
                         static_cast<uInt>(dictionary.size()));
  }
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string zlib(const std::string& data) {
  return deflate_with(data, Z_DEFAULT_COMPRESSION, 15);
}

corps::proto::Prediction prediction() {
  corps::proto::Prediction p;
  p.add_object("person");
  p.add_object("face");
  p.set_frame(12);
  auto* detection = p.add_detections();
  detection->set_label("person");
  detection->set_score(0.875F);
  detection->set_x(10);
  detection->set_y(20);
  detection->set_width(30);
  detection->set_height(60);
  p.set_source("vtest");
  p.set_image_timestamp(1700000000.25);
  p.set_detector("hog-people");
  p.set_inference_ms(12.5);
  return p;
}

corps::proto::Image image() {
  corps::proto::Image i;
  i.set_image_data(std::string("\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0", 12));
  i.set_height(2);
  i.set_width(2);
  i.set_frame(7);
  i.set_pixel_format(corps::proto::PIXEL_FORMAT_RAW_BGR8);
  i.set_source("cam-1");
  return i;
}

corps::proto::DeadLetter dead_letter() {
  corps::proto::DeadLetter d;
  d.set_topic("VideoStream");
  d.set_partition(1);
  d.set_offset(42);
  d.set_key("cam-1");
  d.set_has_key(true);
  auto* header = d.add_headers();
  header->set_name("corps-type");
  header->set_value("corps.proto.Image");
  d.set_value(std::string("\x78\x9c\x03\x00", 4));
  d.set_stage("decompress");
  d.set_code("truncated_data");
  d.set_error("the zlib stream ends early");
  d.set_attempts(1);
  d.set_failed_at(1700000000.5);
  d.set_consumer_group("predict");
  d.set_service("predict-1");
  return d;
}

void write_decode_seeds(const fs::path& dir) {
  corps::ChannelRegistry registry;
  registry.bind<corps::proto::Prediction>("Predictions");
  registry.bind<corps::proto::Image>("VideoStream");
  registry.bind<corps::proto::DeadLetter>("DeadLetters");
  corps::MessageHandler handler(registry);
  auto encode = [&](const char* channel, google::protobuf::Message&& message) {
    return std::string(handler.encode(channel, message).value().value.view());
  };
  const corps::Headers prediction_type{{"corps-type", "corps.proto.Prediction"}};
  const std::string good_prediction = encode("Predictions", prediction());
  const std::string good_image = encode("VideoStream", image());
  const std::string good_dead_letter = encode("DeadLetters", dead_letter());

  auto seed = [&](const char* name, DecodeInput input) {
    write_file(dir / name, corps::fuzz::write_decode_input(input));
  };
  // Records that decode.
  seed("prediction_from_handler",
       {.channel = predictions, .headers = prediction_type, .value = good_prediction});
  seed("prediction_as_messagecorps_sends_it", {.channel = predictions, .value = good_prediction});
  seed("image_with_key", {.channel = video_stream,
                          .headers = corps::Headers{{"corps-type", "corps.proto.Image"}},
                          .key = "cam-1",
                          .value = good_image});
  seed("dead_letter", {.channel = dead_letters, .value = good_dead_letter});
  seed("prediction_dynamic",
       {.channel = dynamic_predictions, .headers = prediction_type, .value = good_prediction});
  seed("image_dynamic", {.channel = dynamic_images, .value = good_image});
  {
    corps::proto::Prediction p = prediction();
    p.mutable_message_data()->set_trace_id("0af7651916cd43dd8448eb211c80319c");
    seed("stored_level_prediction",
         {.channel = predictions, .value = deflate_with(p.SerializeAsString(), 0, 15)});
    seed("best_level_prediction",
         {.channel = predictions, .value = deflate_with(p.SerializeAsString(), 9, 15)});
  }

  // Records framed for a schema registry (Prediction is the second
  // message of its file: indexes [1]), with and without corps metadata, in
  // Confluent's zigzag and in the plain varints of older Python clients.
  {
    const std::vector<int> path =
        corps::message_index_path(*corps::proto::Prediction::descriptor());
    auto framed = [&](const corps::proto::Prediction& p, corps::MessageIndexEncoding encoding) {
      std::string value;
      corps::append_confluent_prefix(value, 17, path, encoding);
      return value + p.SerializeAsString();
    };
    corps::proto::Prediction bare;
    bare.set_frame(3);
    bare.add_object("person");
    seed("confluent_prediction",
         {.channel = predictions,
          .value = framed(prediction(), corps::MessageIndexEncoding::zigzag)});
    seed("confluent_prediction_plain_indexes",
         {.channel = predictions, .value = framed(bare, corps::MessageIndexEncoding::plain)});
    seed("confluent_truncated_indexes",
         {.channel = predictions, .value = std::string("\0\0\0\0\x11\x06\x02", 7)});
  }

  // Records refused before inflating.
  seed("unbound_channel", {.channel = unbound, .value = good_prediction});
  seed("wrong_type_header", {.channel = predictions,
                             .headers = corps::Headers{{"corps-type", "corps.proto.Image"}},
                             .value = good_prediction});
  seed("null_type_header_and_others",
       {.channel = predictions,
        .headers = corps::Headers{{"traceparent",
                                   "00-0af7651916cd43dd8448eb211c80319c-"
                                   "b7ad6b7169203331-01"},
                                  {"corps-type", std::nullopt},
                                  {"", ""}},
        .key = "",
        .value = good_prediction});
  seed("too_many_headers_for_small_limits",
       {.channel = predictions,
        .small_limits = true,
        .headers = corps::Headers{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}},
        .value = good_prediction});
  seed(
      "header_bytes_over_small_limits",
      {.channel = predictions,
       .small_limits = true,
       .headers = corps::Headers{{"big", std::string(200, 'x')}, {"bigger", std::string(200, 'y')}},
       .value = good_prediction});
  seed("empty_value", {.channel = predictions, .value = ""});
  seed("null_value", {.channel = video_stream, .null_value = true});

  // Values that do not inflate.
  seed("truncated",
       {.channel = predictions, .value = good_prediction.substr(0, good_prediction.size() / 2)});
  seed("header_only", {.channel = predictions, .value = good_prediction.substr(0, 2)});
  seed("trailing_garbage", {.channel = predictions, .value = good_prediction + "garbage"});
  seed("two_streams", {.channel = predictions, .value = good_prediction + good_prediction});
  {
    std::string corrupt = good_prediction;
    corrupt[corrupt.size() / 2] ^= 0x55;
    seed("corrupt_middle", {.channel = predictions, .value = corrupt});
    std::string bad_adler = good_prediction;
    bad_adler.back() ^= 0x01;
    seed("bad_adler32", {.channel = predictions, .value = bad_adler});
    std::string bad_header = good_image;
    bad_header[1] ^= 0x01;
    seed("bad_zlib_header", {.channel = video_stream, .value = bad_header});
  }
  seed("gzip_not_zlib",
       {.channel = predictions, .value = deflate_with(prediction().SerializeAsString(), 6, 31)});
  seed("raw_deflate_not_zlib",
       {.channel = predictions, .value = deflate_with(prediction().SerializeAsString(), 6, -15)});
  seed("preset_dictionary",
       {.channel = predictions,
        .value = deflate_with(prediction().SerializeAsString(), 6, 15, "person face vtest")});
  seed(
      "bomb_over_small_limit",
      {.channel = video_stream, .small_limits = true, .value = zlib(std::string(64 * 1024, '\0'))});
  // Found by this fuzzer: broken before the small limit, so corrupt, not too large.
  seed("found_broken_before_the_cap", {.channel = video_stream,
                                       .small_limits = true,
                                       .value = corps_tests::stream_broken_before_the_cap()});
  seed("bomb_over_large_limit",
       {.channel = video_stream,
        .value = zlib(std::string(corps::fuzz::large_inflate_limit + 1, '\0'))});

  // The other codecs, each named by its corps-codec header: good frames,
  // and the ways a frame can be wrong.
  for (const corps::Codec codec : {corps::Codec::none, corps::Codec::zstd, corps::Codec::lz4}) {
    const std::string name(corps::to_string(codec));
    corps::PayloadCompressor compressor({.codec = codec, .uncompressed_below = 0});
    const corps::Headers named{{"corps-codec", name}};
    corps::proto::Prediction p = prediction();
    p.mutable_message_data()->set_uuid("018f2b3a-0b1c-7def-9a1b-0242ac120002");
    const std::string frame(compressor.compress(p.SerializeAsString())->view());
    auto codec_seed = [&](const std::string& what, DecodeInput input) {
      input.headers = named;
      seed((name + "_" + what).c_str(), std::move(input));
    };
    codec_seed("prediction", {.channel = predictions, .value = frame});
    codec_seed("plain_prediction",
               {.channel = predictions, .compress = true, .value = p.SerializeAsString()});
    codec_seed("truncated", {.channel = predictions, .value = frame.substr(0, frame.size() - 3)});
    codec_seed("trailing", {.channel = predictions, .value = frame + "tail"});
    codec_seed("two_frames", {.channel = predictions, .value = frame + frame});
    std::string corrupt = frame;
    corrupt[corrupt.size() / 2] ^= 0x40;
    codec_seed("corrupt", {.channel = predictions, .value = corrupt});
    codec_seed("bomb_over_small_limit",
               {.channel = video_stream,
                .small_limits = true,
                .value = std::string(compressor.compress(std::string(64 * 1024, '\0'))->view())});
  }
  // Found by this fuzzer, as a pair: after an lz4 frame that declared its
  // size and then broke, a frame of an empty value (which declares none)
  // was refused. The fuzzer's own decompressor lives from input to input,
  // and libFuzzer runs seeds smallest first: the empty value carries a long
  // key so that it runs after the broken frame.
  {
    const corps::Headers lz4{{"corps-codec", "lz4"}};
    corps::PayloadCompressor compressor({.codec = corps::Codec::lz4, .uncompressed_below = 0});
    std::string broken(compressor.compress(prediction().SerializeAsString())->view());
    for (std::size_t i = 20; i < broken.size() && i < 40; ++i) broken[i] = '\xff';
    seed("found_lz4_broken_after_declaring_its_size",
         {.channel = predictions, .headers = lz4, .value = broken});
    seed("found_lz4_empty_value_after_a_broken_frame",
         {.channel = predictions,
          .compress = true,
          .headers = lz4,
          .key = std::string(std::min<std::size_t>(broken.size() + 8, 255), 'k'),
          .value = ""});
  }

  // Header bytes that are not UTF-8: a name, and a codec's name.
  seed("header_bytes_not_utf8", {.channel = predictions,
                                 .headers = corps::Headers{{std::string("\xc3\x28", 2), "x"},
                                                           {"corps-codec", std::string("\xff", 1)}},
                                 .key = std::string("\xff\xfe", 2),
                                 .value = good_prediction});

  // Values that inflate but do not parse, or carry no metadata.
  seed("not_protobuf", {.channel = predictions, .value = zlib("this is not a protobuf \xff\xff")});
  seed("no_metadata", {.channel = predictions, .value = zlib(prediction().SerializeAsString())});
  seed("image_on_prediction_channel",
       {.channel = predictions, .value = zlib(image().SerializeAsString())});
  seed("empty_message", {.channel = dynamic_predictions, .value = zlib("")});

  // Plain protobuf, compressed by the fuzzer: mutations reach the parser.
  auto plain = [&](const char* name, std::size_t channel, const std::string& bytes) {
    seed(name, {.channel = channel, .compress = true, .value = bytes});
  };
  {
    corps::proto::Prediction p = prediction();
    p.mutable_message_data()->set_uuid("018f2b3a-0b1c-7def-9a1b-0242ac120002");
    p.mutable_message_data()->set_trace_id("0af7651916cd43dd8448eb211c80319c");
    p.mutable_message_data()->set_environment(corps::proto::PRODUCTION);
    p.mutable_message_data()->set_timestamp(1700000000.5);
    plain("plain_prediction", predictions, p.SerializeAsString());
    plain("plain_prediction_dynamic", dynamic_predictions, p.SerializeAsString());
    corps::proto::Image i = image();
    i.mutable_message_data()->set_sending_service("capture");
    plain("plain_image", video_stream, i.SerializeAsString());
    plain("plain_image_dynamic", dynamic_images, i.SerializeAsString());
    corps::proto::DeadLetter d = dead_letter();
    d.mutable_message_data()->set_iso_date("2026-11-22T01:54:59.123456+00:00");
    plain("plain_dead_letter", dead_letters, d.SerializeAsString());
    // Field 99 is unknown to Prediction: kept as an unknown field.
    plain("plain_unknown_field", predictions, p.SerializeAsString() + "\x98\x06\x01");
    // proto3 strings must be UTF-8: "object" holds an invalid byte.
    plain("plain_invalid_utf8", predictions,
          std::string("\x0a\x02\xff\xfe") + p.SerializeAsString());
    corps::proto::Image big = i;
    big.set_image_data(std::string(8192, '\x7f'));
    seed("plain_over_small_limit", {.channel = video_stream,
                                    .compress = true,
                                    .small_limits = true,
                                    .value = big.SerializeAsString()});
  }
}

void write_cli_input_seeds(const fs::path& dir) {
  // byte 0: bit 0 syntax (0 JSON, 1 text), bits 1-3 the type: 0 Prediction,
  // 1 Image, 2 DeadLetter, 3 Prediction (dynamic), 4 DeadLetter (dynamic).
  auto seed = [&](const char* name, int type, bool text, const std::string& body) {
    write_file(dir / name, std::string(1, static_cast<char>((type << 1) | (text ? 1 : 0))) + body);
  };
  const std::string prediction_json =
      R"({"object":["person","face"],"frame":"12","detections":[{"label":"person","score":0.875,)"
      R"("x":10,"y":20,"width":30,"height":60}],"source":"vtest","image_timestamp":1700000000.25,)"
      R"("detector":"hog-people","inference_ms":12.5,"message_data":{"timestamp":1700000000.5,)"
      R"("environment":"PRODUCTION","sending_service":"predict","uuid":)"
      R"("018f2b3a-0b1c-7def-9a1b-0242ac120002","iso_date":"2026-11-22T01:54:59.123456+00:00",)"
      R"("offset":"5","partition":"1","trace_id":"0af7651916cd43dd8448eb211c80319c"}})";
  seed("json_prediction", 0, false, prediction_json);
  seed("json_prediction_dynamic", 3, false, prediction_json);
  seed(
      "json_camel_case", 0, false,
      R"({"imageTimestamp":1.5,"inferenceMs":-0,"messageData":{"traceId":"abc","environment":3}})");
  seed("json_special_numbers", 0, false,
       R"({"image_timestamp":"NaN","inference_ms":"-Infinity","frame":"-9223372036854775808",)"
       R"("detections":[{"score":"Infinity","x":-2147483648}]})");
  seed("json_pretty", 0, false, "{\n  \"object\": [\n    \"person\"\n  ],\n  \"frame\": 1\n}\n");
  seed("json_image", 1, false,
       R"({"image_data":"AAECAwQF","height":2,"width":3,"frame":"9",)"
       R"("pixel_format":"PIXEL_FORMAT_JPEG","source":"cam-\u00e9\ud83d\ude00"})");
  seed("json_image_numeric_enum", 1, false, R"({"pixelFormat":2,"imageData":"_-8="})");
  const std::string dead_letter_json =
      R"({"topic":"VideoStream","partition":1,"offset":"42","key":"Y2FtLTE=","has_key":true,)"
      R"("headers":[{"name":"corps-type","value":"Y29ycHM="},{"name":"n","null_value":true}],)"
      R"("value":"eJwDAA==","stage":"decompress","code":"truncated_data","error":"ends early",)"
      R"("attempts":1,"failed_at":1.7e9,"consumer_group":"predict","service":"predict-1"})";
  seed("json_dead_letter", 2, false, dead_letter_json);
  seed("json_dead_letter_dynamic", 4, false, dead_letter_json);
  seed("json_empty_object", 0, false, "{}");
  seed("json_null_fields", 1, false, R"({"image_data":null,"message_data":null,"frame":null})");
  seed("json_unknown_field", 0, false, R"({"objects":["typo"]})");
  seed("json_wrong_type", 0, false, R"({"frame":"twelve","object":"person"})");
  seed("json_truncated", 0, false, R"({"object":["person",)");
  seed("json_not_json", 0, false, "object: \"person\"");

  const std::string prediction_text =
      "object: \"person\"\nobject: \"face\"\nframe: 12\n"
      "detections { label: \"person\" score: 0.875 x: 10 y: 20 width: 30 height: 60 }\n"
      "source: \"vtest\" image_timestamp: 1.7e9 detector: 'hog' inference_ms: inf\n"
      "message_data { environment: STAGING trace_id: \"0af7651916cd43dd8448eb211c80319c\" "
      "offset: -1 partition: 0x7fffffffffffffff }\n";
  seed("text_prediction", 0, true, prediction_text);
  seed("text_prediction_dynamic", 3, true, prediction_text);
  seed("text_image", 1, true,
       "image_data: \"\\000\\001\\377\\xfe\" height: 2 width: 3 frame: -9\n"
       "pixel_format: PIXEL_FORMAT_RAW_GRAY8 source: \"cam\" \"-1\"\n");
  seed("text_image_numeric_enum", 1, true, "pixel_format: 1 # a JPEG\n");
  seed("text_dead_letter", 2, true,
       "topic: \"t\" headers < name: \"corps-type\" value: \"x\" > headers { null_value: true }\n"
       "value: \"x\\234\\003\\000\" has_key: true attempts: 3 failed_at: 1e300\n");
  seed("text_dead_letter_dynamic", 4, true, "topic: \"t\" message_data: { uuid: \"u\" }");
  seed("text_nested_lists", 0, true,
       "object: [\"a\", \"b\"] detections: [{label: \"a\"}, {label: \"b\" score: -0.0}]");
  seed("text_unknown_field", 0, true, "frames: 1");
  seed("text_bad_enum", 1, true, "pixel_format: PIXEL_FORMAT_PNG");
  seed("text_unterminated", 0, true, "message_data { trace_id: \"abc");
  seed("text_empty", 0, true, "");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_corpus DIR  (writes DIR/decode/, DIR/dead_letter/ and "
                 "DIR/cli_input/)\n";
    return 2;
  }
  try {
    const fs::path out = argv[1];
    fs::create_directories(out / "decode");
    fs::create_directories(out / "dead_letter");
    fs::create_directories(out / "cli_input");
    write_decode_seeds(out / "decode");
    // The dead-letter fuzzer reads the same layout: any record, as a letter.
    write_decode_seeds(out / "dead_letter");
    write_cli_input_seeds(out / "cli_input");
  } catch (const std::exception& e) {
    std::cerr << "fuzz_make_corpus: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
