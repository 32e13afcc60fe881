#include "codec_only.hpp"

#include <array>
#include <stdexcept>

#include "corps/headers.hpp"
#include "corps/message_handler.hpp"
#include "corps/message_loader.hpp"
#include "resources.hpp"
#include "throughput.hpp"

namespace corps::bench {

namespace {

constexpr const char* codec_channel = "bench-codec";

}  // namespace

CodecResult measure_codec(Payload& payload, std::size_t records, Progress& progress) {
  progress.stage(std::string(to_string(payload.codec())) + " codec only · " + payload.name() +
                     " · encode, then load",
                 2 * records);
  const ChannelRegistry registry = payload.registry(codec_channel);
  MessageHandler handler(registry, payload.handler_options());
  MessageLoader loader(registry);

  double encoded_bytes = 0;
  Meter encoding;
  for (std::size_t i = 0; i < records; ++i) {
    auto value = handler.encode(codec_channel, payload.fresh(i));
    if (!value.ok()) throw std::runtime_error("encode: " + value.error().to_string());
    encoded_bytes += static_cast<double>(value->size());
    progress.update(i + 1);
  }
  const Usage encode_usage = encoding.elapsed();

  // As a consumer sees a corps record: the value and its corps-type header,
  // and a corps-codec header unless the value is zlib. Built before the
  // clock starts, one set per codec.
  std::array<Headers, 4> headers_of;  // by Codec's value
  for (const Codec codec : {Codec::zlib, Codec::none, Codec::zstd, Codec::lz4}) {
    Headers& headers = headers_of.at(static_cast<std::size_t>(codec));
    headers.push_back({std::string(type_header), payload.type_name()});
    if (codec != Codec::zlib) {
      headers.push_back({std::string(codec_header), std::string(to_string(codec))});
    }
  }
  double loaded_bytes = 0;
  Meter loading;
  for (std::size_t i = 0; i < records; ++i) {
    const std::string& value = payload.value(i);
    const Headers& headers = headers_of[static_cast<std::size_t>(payload.value_codec(i))];
    const RawRecord record{codec_channel, 0,       static_cast<std::int64_t>(i), value.data(),
                           value.size(),  &headers};
    auto message = loader.load(record);
    if (!message.ok()) throw std::runtime_error("load: " + message.error().to_string());
    loaded_bytes += static_cast<double>(value.size());
    progress.update(records + i + 1);
  }
  const Usage load_usage = loading.elapsed();

  return {rate_of(records, encoded_bytes, encode_usage),
          rate_of(records, loaded_bytes, load_usage)};
}

}  // namespace corps::bench
