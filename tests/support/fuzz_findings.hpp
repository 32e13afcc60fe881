// Inputs fuzz/decode_fuzzer found to break a contract, kept as regression
// cases: the unit tests check the fixed verdict, and fuzz/make_corpus.cpp
// writes each as a seed so every fuzz run starts from it. No test framework
// here: the fuzz build includes it too.
#pragma once

#include <string>
#include <string_view>

namespace corps_tests {

/// A 312-byte zlib stream whose deflate data turns invalid ("invalid bit
/// length repeat") before it inflates past 4,096 bytes. libdeflate reports
/// it as too large for a 4,096-byte cap; it is corrupt_data.
inline std::string stream_broken_before_the_cap() {
  constexpr std::string_view hex =
      "789cedc101010000008090feafee08ff130a000000000000000000c10000000000000000000000000000"
      "0000007a7374640000000000000000003c20000000000000000000000000000000000000000000000000"
      "000000000000003c00000000000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "00000000000000000000000000006a000f0001dfdfdfdfdfdfdfdfdfdfdfdfbababababababababababa"
      "bababababababababababababadfdfdfdfdfdfdfdfdfdfdfdfdfdf01000017dfdfdfdfdfdfdfdfdfdfdf"
      "dfdfdfdfdfdfdfdfdfdfe3dfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdf"
      "dfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdfdf";
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string stream;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    stream.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return stream;
}

}  // namespace corps_tests
