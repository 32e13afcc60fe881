#include "codec_only.hpp"

#include <zlib.h>

#include <array>
#include <stdexcept>

#include "corps/headers.hpp"
#include "corps/message_handler.hpp"
#include "corps/message_loader.hpp"
#include "resources.hpp"
#include "throughput.hpp"

namespace corps::bench {

namespace {

// A zlib stream of `zeros` zero bytes, built without holding them.
std::string zeros_stream(std::size_t zeros) {
  z_stream zs{};
  if (deflateInit(&zs, 9) != Z_OK) throw std::runtime_error("deflateInit failed");
  const std::string chunk(std::size_t{1} << 20, '\0');
  std::string out;
  std::string buffer(std::size_t{1} << 16, '\0');
  std::size_t left = zeros;
  do {
    const std::size_t now = std::min(left, chunk.size());
    left -= now;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
    zs.avail_in = static_cast<uInt>(now);
    const int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buffer.data());
      zs.avail_out = static_cast<uInt>(buffer.size());
      deflate(&zs, flush);
      out.append(buffer.data(), buffer.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  } while (left > 0);
  deflateEnd(&zs);
  return out;
}

}  // namespace

SampleLoader::SampleLoader(const Payload& payload, MessageLoader& loader)
    : payload_(payload), loader_(loader) {
  for (const Codec codec : {Codec::zlib, Codec::none, Codec::zstd, Codec::lz4}) {
    Headers& headers = headers_of_.at(static_cast<std::size_t>(codec));
    headers.push_back({std::string(type_header), payload.type_name()});
    if (codec != Codec::zlib) {
      headers.push_back({std::string(codec_header), std::string(to_string(codec))});
    }
  }
}

std::size_t SampleLoader::load(std::size_t index) {
  const std::string& value = payload_.value(index);
  const Headers& headers = headers_of_[static_cast<std::size_t>(payload_.value_codec(index))];
  const RawRecord record{codec_channel, 0,       static_cast<std::int64_t>(index), value.data(),
                         value.size(),  &headers};
  auto message = loader_.load(record);
  if (!message.ok()) throw std::runtime_error("load: " + message.error().to_string());
  return value.size();
}

CodecResult measure_codec(Payload& payload, std::size_t records, Progress& progress) {
  progress.stage(payload.layout() + " codec only · " + payload.name() +
                     " · encode, load, refuse a bomb, load again",
                 3 * records);
  const ChannelRegistry registry = payload.registry(codec_channel);
  MessageHandler handler(registry, payload.handler_options());
  if (payload.schemas()) {
    // The id a producer would have from the registry: encoding is then the
    // same work as a producer's.
    handler.use_schema_id(codec_channel, registry.at(codec_channel).type(), payload.schema_id());
  }
  MessageLoader loader(registry);

  double encoded_bytes = 0;
  Meter encoding;
  for (std::size_t i = 0; i < records; ++i) {
    auto value = handler.encode(codec_channel, payload.fresh(i));
    if (!value.ok()) throw std::runtime_error("encode: " + value.error().to_string());
    encoded_bytes += static_cast<double>(value->value.size());
    progress.update(i + 1);
  }
  const Usage encode_usage = encoding.elapsed();

  SampleLoader samples(payload, loader);
  const auto load_all = [&](std::size_t done_before) {
    double loaded_bytes = 0;
    Meter loading;
    for (std::size_t i = 0; i < records; ++i) {
      loaded_bytes += static_cast<double>(samples.load(i));
      progress.update(done_before + i + 1);
    }
    return rate_of(records, loaded_bytes, loading.elapsed());
  };
  const proto::Throughput load = load_all(records);

  const std::string bomb = zeros_stream(2 * loader.options().max_decompressed_bytes);
  const Headers zlib_headers{{std::string(type_header), payload.type_name()}};
  const auto refused =
      loader.load(RawRecord{codec_channel, 0, -1, bomb.data(), bomb.size(), &zlib_headers});
  if (refused.ok() || refused.error().code() != Errc::too_large) {
    throw std::runtime_error("the bomb was not refused at the cap");
  }
  const proto::Throughput after_bomb = load_all(records);

  return {rate_of(records, encoded_bytes, encode_usage), load, after_bomb};
}

}  // namespace corps::bench
