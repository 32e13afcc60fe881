#include "corps/codec.hpp"

#include <gtest/gtest.h>
#include <zstd.h>

#include <random>
#include <string>

namespace {

using corps::Codec;
using corps::CodecOptions;
using corps::Errc;
using corps::PayloadCompressor;
using corps::PayloadDecompressor;
using corps::Stage;

constexpr std::size_t mib = std::size_t{1} << 20;
const Codec every_codec[] = {Codec::zlib, Codec::none, Codec::zstd, Codec::lz4};

// Text-like bytes: random words from a small vocabulary, which every codec
// compresses, but not to nothing.
std::string sample(std::size_t size, unsigned seed = 7) {
  static const char* const words[] = {"frame ", "person ", "car ", "42 ", "camera-1 ", "0.97 "};
  std::mt19937 random(seed);
  std::string out;
  while (out.size() < size) out += words[random() % std::size(words)];
  out.resize(size);
  return out;
}

std::string encoded(Codec codec, std::string_view input) {
  PayloadCompressor compressor(CodecOptions{.codec = codec});
  auto payload = compressor.compress(input);
  EXPECT_TRUE(payload.ok());
  return payload.ok() ? std::string(payload->view()) : std::string();
}

corps::Error failure(Codec codec, std::string_view input, std::size_t cap = mib) {
  PayloadDecompressor decompressor;
  std::string output;
  const corps::Status status = decompressor.decompress(codec, input, output, cap);
  EXPECT_FALSE(status.ok()) << corps::to_string(codec);
  if (status.ok()) return corps::Error(Errc::invalid_argument, Stage::config, "decoded");
  EXPECT_EQ(status.error().stage(), Stage::decompress);
  return status.error();
}

TEST(PayloadCodec, NamesRoundTripAndUnknownNamesAreRefused) {
  for (Codec codec : every_codec) EXPECT_EQ(corps::parse_codec(corps::to_string(codec)), codec);
  EXPECT_EQ(corps::parse_codec("gzip"), std::nullopt);
  EXPECT_EQ(corps::parse_codec("ZSTD"), std::nullopt);
  EXPECT_EQ(corps::parse_codec(""), std::nullopt);
}

TEST(PayloadCodec, EveryCodecRoundTripsSmallAndLargeValuesWithOneStatePerSide) {
  PayloadDecompressor decompressor;
  for (Codec codec : every_codec) {
    PayloadCompressor compressor(CodecOptions{.codec = codec});
    EXPECT_EQ(compressor.codec(), codec);
    for (std::size_t size : {std::size_t{1}, std::size_t{150}, std::size_t{3 * mib}}) {
      const std::string input = sample(size, static_cast<unsigned>(size));
      auto payload = compressor.compress(input);
      ASSERT_TRUE(payload.ok()) << payload.error().to_string();
      std::string output = "left over from the last record";
      const auto status =
          decompressor.decompress(compressor.codec_for(size), payload->view(), output, 4 * mib);
      ASSERT_TRUE(status.ok()) << corps::to_string(codec) << ": " << status.error().to_string();
      EXPECT_EQ(output, input) << corps::to_string(codec) << " at " << size << " B";
      if (codec != Codec::none && size > 1000) {
        EXPECT_LT(payload->size(), size / 2) << corps::to_string(codec) << " did not compress";
      }
    }
  }
}

TEST(PayloadCodec, ZstdAndLz4SendShortValuesUncompressedUnlessToldNotTo) {
  const std::size_t below = corps::default_uncompressed_below;
  for (Codec codec : {Codec::zstd, Codec::lz4}) {
    PayloadCompressor compressor(CodecOptions{.codec = codec});
    EXPECT_EQ(compressor.codec_for(0), Codec::none);
    EXPECT_EQ(compressor.codec_for(below - 1), Codec::none);
    EXPECT_EQ(compressor.codec_for(below), codec);
    const std::string short_value = sample(below - 1, 7);
    auto stored = compressor.compress(short_value);
    ASSERT_TRUE(stored.ok()) << stored.error().to_string();
    EXPECT_EQ(stored->view(), short_value) << corps::to_string(codec);
    const std::string long_value(below, 'a');
    auto framed = compressor.compress(long_value);
    ASSERT_TRUE(framed.ok()) << framed.error().to_string();
    EXPECT_LT(framed->size(), long_value.size()) << corps::to_string(codec);

    PayloadCompressor every(CodecOptions{.codec = codec, .uncompressed_below = 0});
    EXPECT_EQ(every.codec_for(0), codec);
    auto tiny = every.compress("abc");
    ASSERT_TRUE(tiny.ok()) << tiny.error().to_string();
    EXPECT_NE(tiny->view(), "abc") << corps::to_string(codec) << " wrote no frame";
    PayloadDecompressor decompressor;
    std::string output;
    ASSERT_TRUE(decompressor.decompress(codec, tiny->view(), output, 1000).ok());
    EXPECT_EQ(output, "abc");
  }
  // zlib keeps its own threshold (values stay zlib streams), and none is none.
  for (Codec codec : {Codec::zlib, Codec::none}) {
    EXPECT_EQ(PayloadCompressor(CodecOptions{.codec = codec}).codec_for(1), codec);
  }
}

TEST(PayloadCodec, NoneIsTheValueItselfAndStillHasACap) {
  EXPECT_EQ(encoded(Codec::none, "abc"), "abc");
  const auto error = failure(Codec::none, std::string(2000, 'x'), 1000);
  EXPECT_EQ(error.code(), Errc::too_large);
  EXPECT_NE(error.message().find("1000"), std::string::npos) << error.message();
}

TEST(PayloadCodec, ABombStopsAtTheCapInEveryCompressingCodec) {
  const std::string zeros(64 * mib, '\0');
  for (Codec codec : {Codec::zlib, Codec::zstd, Codec::lz4}) {
    const std::string bomb = encoded(codec, zeros);
    ASSERT_LT(bomb.size(), mib) << corps::to_string(codec);
    EXPECT_EQ(failure(codec, bomb, mib).code(), Errc::too_large) << corps::to_string(codec);
  }
}

// A frame as a streaming zstd writes it: no content size recorded.
std::string zstd_stream_frame(const std::string& input, int window_log) {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0);
  ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, window_log);  // 0: the level's
  std::string frame(ZSTD_compressBound(input.size()), '\0');
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  ZSTD_outBuffer out{frame.data(), frame.size(), 0};
  EXPECT_EQ(ZSTD_compressStream2(context, &out, &in, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(context);
  frame.resize(out.pos);
  EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  return frame;
}

TEST(PayloadCodec, AZstdBombThatHidesItsSizeStillStopsAtTheCap) {
  const std::string zeros(64 * mib, '\0');
  for (int window_log : {0, 27}) {
    const auto error = failure(Codec::zstd, zstd_stream_frame(zeros, window_log), mib);
    EXPECT_EQ(error.code(), Errc::too_large) << error.message();
  }
}

// A decoder reuses the caller's buffer from value to value. One that grew to
// the cap (a bomb refused there) or far past what later values need (one
// huge value) must shrink back: else every later value pays to zero-fill it
// (after one bomb a loader decoded small values 4,000 times slower) and its
// memory is held for good.
TEST(PayloadCodec, ABufferGrownByABombOrAHugeValueShrinksBackForTheValuesAfterIt) {
  const std::string zeros(64 * mib, '\0');
  for (Codec codec : every_codec) {
    // zstd's frames declare their size, refused before decoding: the bomb is
    // one that hides it.
    const std::string huge =
        codec == Codec::zstd ? zstd_stream_frame(zeros, 27) : encoded(codec, zeros);
    const std::string small = encoded(codec, sample(300));
    for (const std::size_t cap : {16 * mib, 128 * mib}) {
      SCOPED_TRACE(std::string(corps::to_string(codec)) +
                   (cap < zeros.size() ? ": a bomb refused at the cap" : ": a huge value"));
      PayloadDecompressor decompressor;
      std::string output;
      const corps::Status first = decompressor.decompress(codec, huge, output, cap);
      EXPECT_EQ(first.ok(), cap > zeros.size());
      for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(decompressor.decompress(codec, small, output, cap).ok());
        EXPECT_EQ(output, sample(300));
      }
      EXPECT_LE(output.capacity(), mib) << "the buffer kept " << output.capacity() << " bytes";
    }
  }
}

// A zstd frame that declares fewer bytes than its blocks hold (found by
// fuzz/decode_fuzzer). zstd decodes a frame in one pass when the buffer has
// room for what the frame declares, else through its own buffer, and words
// the error differently: a used decoder, whose buffer a larger value grew,
// must give the same verdict as a fresh one.
TEST(PayloadCodec, ABrokenZstdFrameGetsOneVerdictWhateverCameBefore) {
  std::string frame = encoded(Codec::zstd, sample(2000));
  // The frame header: magic (4 bytes), descriptor, then (no window byte for
  // a single-segment frame) the content size, 2 bytes here: 2000 - 256.
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), 2000U);
  const auto descriptor = static_cast<unsigned char>(frame[4]);
  ASSERT_EQ(descriptor >> 6, 1) << "a two-byte content size";
  ASSERT_NE(descriptor & 0x20, 0) << "a single-segment frame";
  const unsigned declared = 1000 - 256;
  frame[5] = static_cast<char>(declared & 0xff);
  frame[6] = static_cast<char>(declared >> 8);
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), 1000U);

  PayloadDecompressor fresh;
  std::string fresh_output;
  const corps::Status first = fresh.decompress(Codec::zstd, frame, fresh_output, mib);
  PayloadDecompressor used;
  std::string used_output;
  ASSERT_TRUE(
      used.decompress(Codec::zstd, encoded(Codec::zstd, sample(100'000)), used_output, mib).ok());
  const corps::Status second = used.decompress(Codec::zstd, frame, used_output, mib);
  ASSERT_FALSE(first.ok());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(first.error().to_string(), second.error().to_string());
}

TEST(PayloadCodec, AStreamedZstdFrameWithinTheCapDecodes) {
  const std::string input = sample(5000);
  PayloadDecompressor decompressor;
  std::string output;
  const auto status =
      decompressor.decompress(Codec::zstd, zstd_stream_frame(input, 0), output, mib);
  ASSERT_TRUE(status.ok()) << status.error().to_string();
  EXPECT_EQ(output, input);
}

TEST(PayloadCodec, TruncatedCorruptAndTrailingFramesAreToldApart) {
  const std::string input = sample(20000);
  for (Codec codec : {Codec::zlib, Codec::zstd, Codec::lz4}) {
    const std::string frame = encoded(codec, input);
    const auto name = corps::to_string(codec);
    EXPECT_EQ(failure(codec, frame.substr(0, frame.size() - 5)).code(), Errc::truncated_data)
        << name;
    EXPECT_EQ(failure(codec, frame + "tail").code(), Errc::trailing_data) << name;
    std::string flipped = frame;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5a);
    EXPECT_EQ(failure(codec, flipped).code(), Errc::corrupt_data) << name;
    EXPECT_EQ(failure(codec, "definitely not a frame").code(), Errc::corrupt_data) << name;
  }
}

TEST(PayloadCodec, AZstdLevelOutOfRangeIsRefusedAtConstruction) {
  try {
    PayloadCompressor compressor(CodecOptions{.codec = Codec::zstd, .zstd_level = 40});
    FAIL() << "zstd level 40 was accepted";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), Stage::config);
    EXPECT_NE(std::string(e.what()).find("40"), std::string::npos) << e.what();
  }
}

}  // namespace

// An lz4 frame that breaks after declaring its content size must not
// change what the next frame decodes to: a consumer reuses one
// decompressor for every record. Found by fuzz/decode_fuzzer: after such a
// frame, a valid frame of an empty value (which declares no size) was
// refused as ERROR_frameSize_wrong: resetting lz4's decompression context
// did not forget the broken frame's declared size.
TEST(PayloadCodec, AFrameAfterABrokenLz4FrameDecodesAsOnAFreshDecompressor) {
  std::string broken = encoded(Codec::lz4, sample(65'536));
  ASSERT_GT(broken.size(), 64U);
  for (std::size_t i = 20; i < 60; ++i) broken[i] = static_cast<char>(0xff);
  PayloadCompressor every_value(CodecOptions{.codec = Codec::lz4, .uncompressed_below = 0});
  const auto empty = every_value.compress("");
  ASSERT_TRUE(empty.ok());
  const auto small = every_value.compress(sample(300));
  ASSERT_TRUE(small.ok());

  PayloadDecompressor used;
  std::string output;
  ASSERT_FALSE(used.decompress(Codec::lz4, broken, output, mib).ok());
  const corps::Status after = used.decompress(Codec::lz4, empty->view(), output, mib);
  EXPECT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_TRUE(output.empty());
  ASSERT_FALSE(used.decompress(Codec::lz4, broken, output, mib).ok());
  const corps::Status next = used.decompress(Codec::lz4, small->view(), output, mib);
  EXPECT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_EQ(output, sample(300));
}

namespace {

// decompress_view() keeps its output buffers between values. A bomb refused
// at the cap, or one huge value, grows them to the cap; the values after it
// must let that memory go whatever their codec: on a channel that mostly
// carries zlib, the next zstd or lz4 value may never come.
TEST(PayloadCodec, ReadingIntoItsOwnBufferKeepsNothingOfABombForTheValuesOfAnyCodecAfterIt) {
  const std::string zeros(64 * mib, '\0');
  for (Codec bomb_codec : {Codec::zlib, Codec::zstd, Codec::lz4}) {
    const std::string bomb =
        bomb_codec == Codec::zstd ? zstd_stream_frame(zeros, 27) : encoded(bomb_codec, zeros);
    for (Codec next_codec : every_codec) {
      for (const std::size_t cap : {16 * mib, 128 * mib}) {
        SCOPED_TRACE(std::string(corps::to_string(bomb_codec)) +
                     (cap < zeros.size() ? " bomb refused at the cap" : " huge value") + ", then " +
                     std::string(corps::to_string(next_codec)));
        PayloadDecompressor decompressor;
        const auto first = decompressor.decompress_view(bomb_codec, bomb, cap);
        EXPECT_EQ(first.ok(), cap > zeros.size());
        // The first value after a huge one is given the room the huge one
        // took (values on a channel tend to be alike); the second is not.
        const std::string small = encoded(next_codec, sample(300));
        for (int i = 0; i < 2; ++i) {
          const auto next = decompressor.decompress_view(next_codec, small, cap);
          ASSERT_TRUE(next.ok());
          EXPECT_EQ(*next, sample(300));
        }
        EXPECT_LE(decompressor.view_bytes_held(), 4 * mib)
            << "the bomb's buffer is still held: " << decompressor.view_bytes_held() << " B";
      }
    }
  }
}

}  // namespace
