// Small helpers shared by corps's unit and integration tests.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "corps/error.hpp"

namespace corps_tests {

/// Runs `call`, expects it to throw corps::Exception, and returns its error.
template <class F>
corps::Error error_of(F&& call) {
  try {
    call();
  } catch (const corps::Exception& e) {
    return e.error();
  }
  ADD_FAILURE() << "expected a corps::Exception";
  return corps::Error(corps::Errc::invalid_argument, corps::Stage::config, "no exception");
}

/// What Python's zlib.compress(data, -1) returns, as MessageCorps writes it:
/// zlib's compress2 at the default level.
inline std::string python_zlib_compress(const std::string& data) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  EXPECT_EQ(
      compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                reinterpret_cast<const Bytef*>(data.data()), data.size(), Z_DEFAULT_COMPRESSION),
      Z_OK);
  out.resize(size);
  return out;
}

}  // namespace corps_tests
