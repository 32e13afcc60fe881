#include "corps/codec.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <utility>
#include <vector>

#include "detail/zlib_codec.hpp"
#include "support/expect.hpp"
#include "support/fuzz_findings.hpp"
#include "support/hostile_values.hpp"

namespace {

using corps::Errc;
using corps::Stage;
using corps::detail::ZlibCompressor;
using corps::detail::ZlibDecompressor;

std::string sample(std::size_t size) {
  std::string text;
  std::mt19937 random(42);
  while (text.size() < size) text += "frame " + std::to_string(random() % 1000) + "; ";
  text.resize(size);
  return text;
}

using corps_tests::python_zlib_compress;
using corps_tests::zeros_stream;

// What zlib's own one-shot inflate makes of `stream`, or "" if it fails.
std::string zlib_uncompress(const std::string& stream, std::size_t size) {
  std::string out(size, '\0');
  uLongf out_size = size;
  const int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &out_size,
                            reinterpret_cast<const Bytef*>(stream.data()), stream.size());
  EXPECT_EQ(rc, Z_OK);
  out.resize(rc == Z_OK ? out_size : 0);
  return out;
}

// What Python's zlib module makes of `input` with `call` ("decompress" or
// "compress"), run by /usr/bin/python3 on files in a temporary directory.
std::string python_zlib(const std::string& call, const std::string& input) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("corps-codec-test-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in", std::ios::binary) << input;
  const std::string command =
      "/usr/bin/python3 -c 'import sys, zlib; open(sys.argv[2], \"wb\").write(zlib." + call +
      "(open(sys.argv[1], \"rb\").read()))' " + (dir / "in").string() + " " +
      (dir / "out").string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(dir / "out", std::ios::binary);
  std::string out{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::filesystem::remove_all(dir);
  return out;
}

// What MessageCorps reads from `stream`.
std::string python_zlib_decompress(const std::string& stream) {
  return python_zlib("decompress", stream);
}

corps::Error decompress_error(const std::string& input, std::size_t cap = 1 << 20) {
  ZlibDecompressor decompressor;
  std::string out;
  const auto status = decompressor.decompress(input, out, cap);
  EXPECT_FALSE(status.ok());
  return status.ok() ? corps::Error(Errc::invalid_argument, Stage::config, "none") : status.error();
}

TEST(Codec, WritesStreamsThatPythonsZlibDecompressAndZlibsInflateReadBack) {
  ZlibCompressor compressor;
  // Below and above the size where the compressor switches from zlib to
  // libdeflate, whose streams differ from Python's zlib.compress byte for byte.
  for (std::size_t size : {0u, 1u, 100u, 2047u, 2048u, 5000u, 300000u}) {
    const auto input = sample(size);
    auto compressed = compressor.compress(input);
    ASSERT_TRUE(compressed.ok());
    const std::string stream(compressed->view());
    EXPECT_EQ(zlib_uncompress(stream, input.size()), input) << "size " << size;
    EXPECT_EQ(python_zlib_decompress(stream), input) << "size " << size;
  }
}

// The type of the first deflate block of a zlib stream: 0 stored, 1 fixed
// Huffman codes, 2 dynamic (RFC 1951, after the 2-byte zlib header).
int first_block_type(const std::string& stream) {
  return (static_cast<unsigned char>(stream.at(2)) >> 1) & 0x3;
}

TEST(Codec, StoresValuesShorterThanTheThresholdAndDeflatesTheRest) {
  ZlibCompressor compressor;  // stores below default_zlib_store_below
  const auto short_input = sample(corps::default_zlib_store_below - 1);
  auto stored = compressor.compress(short_input);
  ASSERT_TRUE(stored.ok());
  const std::string stored_stream(stored->view());
  EXPECT_EQ(first_block_type(stored_stream), 0);
  EXPECT_EQ(stored_stream.size(), short_input.size() + 11) << "header, block header, checksum";
  EXPECT_EQ(python_zlib_decompress(stored_stream), short_input);

  const auto long_input = sample(corps::default_zlib_store_below);
  auto deflated = compressor.compress(long_input);
  ASSERT_TRUE(deflated.ok());
  EXPECT_NE(first_block_type(std::string(deflated->view())), 0);
  EXPECT_LT(deflated->size(), long_input.size());

  // From the limit to 2 KiB zlib deflates: MessageCorps's own bytes.
  for (std::size_t size : {corps::default_zlib_store_below, std::size_t{2047}}) {
    auto ours = compressor.compress(sample(size));
    ASSERT_TRUE(ours.ok());
    EXPECT_EQ(std::string(ours->view()), python_zlib("compress", sample(size))) << "size " << size;
  }

  ZlibCompressor deflates_all(corps::default_zlib_level, 0);
  auto small = deflates_all.compress(sample(100));
  ASSERT_TRUE(small.ok());
  EXPECT_NE(first_block_type(std::string(small->view())), 0);
  EXPECT_EQ(python_zlib_decompress(std::string(small->view())), sample(100));
}

TEST(Codec, StoresWhatIsCompressedAlreadyInOneValidStream) {
  ZlibCompressor compressor;
  // Longer than one stored block (65,535 bytes) holds.
  const auto input = sample(150'000);
  auto stored = compressor.compress(input, corps::Compressibility::already_compressed);
  ASSERT_TRUE(stored.ok());
  const std::string stream(stored->view());
  EXPECT_EQ(first_block_type(stream), 0);
  EXPECT_GT(stream.size(), input.size());
  EXPECT_LT(stream.size(), input.size() + 64) << "only framing is added";
  EXPECT_EQ(zlib_uncompress(stream, input.size()), input);
  EXPECT_EQ(python_zlib_decompress(stream), input);
  // The same input, not flagged, is deflated.
  auto deflated = compressor.compress(input);
  ASSERT_TRUE(deflated.ok());
  EXPECT_LT(deflated->size(), input.size() / 2);
}

TEST(Codec, RoundTripsThroughOneReusedStateEachWay) {
  ZlibCompressor compressor(1);
  ZlibDecompressor decompressor;
  std::string out;
  for (int i = 0; i < 200; ++i) {
    const auto input = sample(static_cast<std::size_t>(i) * 97);
    auto compressed = compressor.compress(input);
    ASSERT_TRUE(compressed.ok());
    ASSERT_TRUE(decompressor.decompress(compressed->view(), out, 1 << 20).ok());
    ASSERT_EQ(out, input);
  }
}

TEST(Codec, RefusesALevelOutOfRange) {
  EXPECT_THROW(ZlibCompressor(10), corps::Exception);
  EXPECT_THROW(ZlibCompressor(-2), corps::Exception);
}

TEST(Codec, RefusesEmptyInputAsTruncated) {
  const auto error = decompress_error("");
  EXPECT_EQ(error.code(), Errc::truncated_data);
  EXPECT_EQ(error.stage(), Stage::decompress);
}

TEST(Codec, RefusesATruncatedStreamAtEveryLength) {
  const auto stream = python_zlib_compress(sample(4000));
  for (std::size_t keep = 1; keep < stream.size(); keep += 7) {
    const auto error = decompress_error(stream.substr(0, keep));
    EXPECT_TRUE(error.code() == Errc::truncated_data || error.code() == Errc::corrupt_data)
        << "kept " << keep << ": " << error.to_string();
  }
  EXPECT_EQ(decompress_error(stream.substr(0, stream.size() - 1)).code(), Errc::truncated_data);
}

TEST(Codec, RefusesBytesAfterTheStream) {
  const auto error = decompress_error(python_zlib_compress(sample(1000)) + "garbage");
  EXPECT_EQ(error.code(), Errc::trailing_data);
  EXPECT_NE(error.message().find("7 bytes follow"), std::string::npos) << error.message();
}

TEST(Codec, RefusesABadHeaderAndABadChecksumAsCorrupt) {
  auto stream = python_zlib_compress(sample(1000));
  auto bad_header = stream;
  bad_header[0] = 0x12;
  EXPECT_EQ(decompress_error(bad_header).code(), Errc::corrupt_data);
  auto bad_checksum = stream;
  bad_checksum.back() ^= 0x01;
  const auto error = decompress_error(bad_checksum);
  EXPECT_EQ(error.code(), Errc::corrupt_data);
  EXPECT_NE(error.message().find("incorrect data check"), std::string::npos) << error.message();
}

TEST(Codec, RefusesRandomBytes) {
  std::mt19937 random(7);
  std::string noise(256, '\0');
  for (auto& c : noise) c = static_cast<char>(random());
  const auto error = decompress_error(noise);
  EXPECT_TRUE(error.code() == Errc::corrupt_data || error.code() == Errc::truncated_data);
}

TEST(Codec, AcceptsOutputOfExactlyTheCapAndRefusesOneByteMore) {
  const auto input = sample(10000);
  const auto stream = python_zlib_compress(input);
  ZlibDecompressor decompressor;
  std::string out;
  EXPECT_TRUE(decompressor.decompress(stream, out, input.size()).ok());
  EXPECT_EQ(out, input);
  const auto status = decompressor.decompress(stream, out, input.size() - 1);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), Errc::too_large);
}

// A stream whose dynamic Huffman header is broken ("invalid bit length
// repeat" to zlib) after a start that libdeflate, checking for room first,
// reads as more than the cap: the verdict is zlib's, corrupt, not too_large.
TEST(Codec, CallsAStreamBrokenBeforeTheCapCorruptNotTooLarge) {
  const std::string stream = corps_tests::stream_broken_before_the_cap();
  ASSERT_EQ(stream.size(), 312u);
  ZlibDecompressor decompressor;
  std::string output;
  const auto status = decompressor.decompress(stream, output, 4096);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), corps::Errc::corrupt_data) << status.error().to_string();
}

TEST(Codec, StopsAGibibyteBombAtTheCapWithBoundedMemory) {
  const auto bomb = zeros_stream(std::size_t{1} << 30);
  ASSERT_LT(bomb.size(), 2u << 20);  // about 1 MiB of input
  ZlibDecompressor decompressor;
  std::string out;
  const std::size_t cap = 4 << 20;
  const auto status = decompressor.decompress(bomb, out, cap);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), Errc::too_large);
  EXPECT_NE(status.error().message().find("4194304-byte limit"), std::string::npos);
  EXPECT_LE(out.capacity(), 2 * cap + 64);
}

}  // namespace

// decompress_view() (what MessageLoader reads with) decodes into a buffer of
// its own that is not zero-filled as it grows: it must come to what
// decompress() comes to, value after value on one decompressor each, for
// good streams of every size, each broken kind, and a bomb between them.
TEST(Codec, ReadingIntoItsOwnBufferComesToWhatDecompressGives) {
  const auto small = python_zlib_compress(sample(100));
  const auto large = python_zlib_compress(sample(900'000));
  auto bad_checksum = python_zlib_compress(sample(1000));
  bad_checksum.back() ^= 0x01;
  const std::size_t cap = 4 << 20;
  const std::vector<std::pair<std::string, std::string>> streams = {
      {"small", small},
      {"large after small", large},
      {"small after large", small},
      {"exactly the cap", python_zlib_compress(sample(cap))},
      {"one byte past the cap", python_zlib_compress(sample(cap + 1))},
      {"truncated", large.substr(0, large.size() / 2)},
      {"trailing bytes", small + "garbage"},
      {"bad checksum", bad_checksum},
      {"broken before the cap", corps_tests::stream_broken_before_the_cap()},
      {"empty", ""},
      {"a bomb", zeros_stream(std::size_t{1} << 30)},
      {"large after the bomb", large},
      {"small after the bomb", small},
  };
  ZlibDecompressor into_string;
  ZlibDecompressor into_view;
  for (const auto& [what, stream] : streams) {
    std::string expected;
    const auto status = into_string.decompress(stream, expected, cap);
    const auto viewed = into_view.decompress_view(stream, cap);
    ASSERT_EQ(viewed.ok(), status.ok()) << what;
    if (!status.ok()) {
      EXPECT_EQ(viewed.error().code(), status.error().code()) << what;
      EXPECT_EQ(viewed.error().message(), status.error().message()) << what;
      continue;
    }
    EXPECT_TRUE(*viewed == expected)
        << what << ": " << viewed->size() << " B against " << expected.size();
  }
}

// A bomb refused at the cap grows decompress_view()'s buffers to the cap:
// the next value must let that memory go, whichever path (libdeflate, or
// zlib classifying what libdeflate refused) the bomb took.
TEST(Codec, ReadingIntoItsOwnBufferKeepsNothingOfABombForTheValuesAfterIt) {
  const std::size_t cap = 16 << 20;
  ZlibDecompressor decompressor;
  ASSERT_FALSE(decompressor.decompress_view(zeros_stream(std::size_t{1} << 30), cap).ok());
  EXPECT_GE(decompressor.view_bytes_held(), cap) << "the bomb did not reach the cap";
  const auto small = python_zlib_compress(sample(1000));
  const auto read = decompressor.decompress_view(small, cap);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, sample(1000));
  EXPECT_LE(decompressor.view_bytes_held(), std::size_t{4} << 20)
      << "the bomb's buffers are still held";
}
