#include "zlib_backends.hpp"

#include <libdeflate.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace corps::bench {

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double seconds = 0;
  std::size_t messages = 0;
  double input_bytes = 0;   // uncompressed bytes, the unit of both MB/s figures
  double output_bytes = 0;  // compressed bytes, for the ratio
};

struct Measured {
  Timing compress;
  Timing decompress;
};

// Each backend compresses every message of a set into one reused buffer and
// decompresses its own output, as corps's codec does per record.
class Backend {
 public:
  virtual ~Backend() = default;
  [[nodiscard]] virtual const char* name() const = 0;
  [[nodiscard]] virtual std::size_t compress(const std::string& in, std::string& out) = 0;
  virtual void decompress(const std::string& in, std::string& out) = 0;
};

class ZlibBackend final : public Backend {
 public:
  explicit ZlibBackend(int level) {
    if (deflateInit(&deflater_, level) != Z_OK || inflateInit(&inflater_) != Z_OK)
      throw std::runtime_error("zlib: cannot allocate its state");
  }
  ~ZlibBackend() override {
    deflateEnd(&deflater_);
    inflateEnd(&inflater_);
  }
  ZlibBackend(const ZlibBackend&) = delete;
  ZlibBackend& operator=(const ZlibBackend&) = delete;

  const char* name() const override { return "zlib " ZLIB_VERSION; }

  std::size_t compress(const std::string& in, std::string& out) override {
    deflateReset(&deflater_);
    out.resize(deflateBound(&deflater_, in.size()));
    deflater_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    deflater_.avail_in = static_cast<uInt>(in.size());
    deflater_.next_out = reinterpret_cast<Bytef*>(out.data());
    deflater_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&deflater_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("zlib deflate");
    out.resize(deflater_.total_out);
    return out.size();
  }

  void decompress(const std::string& in, std::string& out) override {
    inflateReset(&inflater_);
    inflater_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    inflater_.avail_in = static_cast<uInt>(in.size());
    inflater_.next_out = reinterpret_cast<Bytef*>(out.data());
    inflater_.avail_out = static_cast<uInt>(out.size());
    if (inflate(&inflater_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("zlib inflate");
    out.resize(inflater_.total_out);
  }

 private:
  z_stream deflater_{};
  z_stream inflater_{};
};

class LibdeflateBackend final : public Backend {
 public:
  // libdeflate has no "-1"; its default level is zlib's, 6.
  explicit LibdeflateBackend(int level)
      : compressor_(libdeflate_alloc_compressor(level < 0 ? 6 : level)),
        decompressor_(libdeflate_alloc_decompressor()) {
    if (!compressor_ || !decompressor_) throw std::runtime_error("libdeflate: cannot allocate");
  }

  const char* name() const override { return "libdeflate " LIBDEFLATE_VERSION_STRING; }

  std::size_t compress(const std::string& in, std::string& out) override {
    out.resize(libdeflate_zlib_compress_bound(compressor_.get(), in.size()));
    const std::size_t size =
        libdeflate_zlib_compress(compressor_.get(), in.data(), in.size(), out.data(), out.size());
    if (size == 0) throw std::runtime_error("libdeflate compress");
    out.resize(size);
    return size;
  }

  void decompress(const std::string& in, std::string& out) override {
    std::size_t produced = 0;
    if (libdeflate_zlib_decompress(decompressor_.get(), in.data(), in.size(), out.data(),
                                   out.size(), &produced) != LIBDEFLATE_SUCCESS)
      throw std::runtime_error("libdeflate decompress");
    out.resize(produced);
  }

 private:
  struct FreeCompressor {
    void operator()(libdeflate_compressor* c) const noexcept { libdeflate_free_compressor(c); }
  };
  struct FreeDecompressor {
    void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
  };
  std::unique_ptr<libdeflate_compressor, FreeCompressor> compressor_;
  std::unique_ptr<libdeflate_decompressor, FreeDecompressor> decompressor_;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Measured measure(Backend& backend, const BackendSamples& set) {
  // Compressed once up front so that decompression is timed on its own, and
  // to check the round trip outside the timed loops.
  std::vector<std::string> compressed(set.messages.size());
  std::string restored;
  for (std::size_t i = 0; i < set.messages.size(); ++i) {
    backend.compress(set.messages[i], compressed[i]);
    restored.resize(set.messages[i].size());
    backend.decompress(compressed[i], restored);
    if (restored != set.messages[i])
      throw std::runtime_error(std::string(backend.name()) + ": round trip changed the bytes");
  }

  Measured result;
  std::string scratch;
  auto start = Clock::now();
  for (std::size_t i = 0; i < set.rounds; ++i) {
    const std::string& message = set.messages[i % set.messages.size()];
    result.compress.output_bytes += static_cast<double>(backend.compress(message, scratch));
    result.compress.input_bytes += static_cast<double>(message.size());
  }
  result.compress.seconds = seconds_since(start);
  result.compress.messages = set.rounds;

  start = Clock::now();
  for (std::size_t i = 0; i < set.rounds; ++i) {
    const std::size_t sample = i % set.messages.size();
    scratch.resize(set.messages[sample].size());
    backend.decompress(compressed[sample], scratch);
    result.decompress.input_bytes += static_cast<double>(scratch.size());
  }
  result.decompress.seconds = seconds_since(start);
  result.decompress.messages = set.rounds;
  return result;
}

double megabytes_per_second(const Timing& t) {
  return t.input_bytes / 1e6 / t.seconds;
}
double microseconds_each(const Timing& t) {
  return t.seconds * 1e6 / static_cast<double>(t.messages);
}

std::string format(const char* pattern, double value) {
  char text[32];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

}  // namespace

void compare_zlib_backends(const std::vector<BackendSamples>& sets, int zlib_level,
                           std::ostream& out) {
  out << "| payload | backend | mean size | compressed | compress µs/msg | compress MB/s "
         "| decompress µs/msg | decompress MB/s |\n"
         "|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& set : sets) {
    ZlibBackend zlib(zlib_level);
    LibdeflateBackend libdeflate(zlib_level);
    const Measured baseline = measure(zlib, set);
    const Measured contender = measure(libdeflate, set);
    for (const auto* backend : {static_cast<Backend*>(&zlib), static_cast<Backend*>(&libdeflate)}) {
      const Measured& m = backend == &zlib ? baseline : contender;
      const double rounds = static_cast<double>(set.rounds);
      out << "| " << set.name << " | " << backend->name() << " | "
          << format("%.0f B", m.compress.input_bytes / rounds) << " | "
          << format("%.0f B", m.compress.output_bytes / rounds) << " | "
          << format("%.2f", microseconds_each(m.compress)) << " | "
          << format("%.1f", megabytes_per_second(m.compress)) << " | "
          << format("%.2f", microseconds_each(m.decompress)) << " | "
          << format("%.1f", megabytes_per_second(m.decompress)) << " |\n";
    }
    out << "| " << set.name << " | **libdeflate/zlib speed** | | | | "
        << format("%.2f×", megabytes_per_second(contender.compress) /
                               megabytes_per_second(baseline.compress))
        << " | | "
        << format("%.2f×", megabytes_per_second(contender.decompress) /
                               megabytes_per_second(baseline.decompress))
        << " |\n";
  }
}

}  // namespace corps::bench
