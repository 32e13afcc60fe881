#include "corps/dead_letter.hpp"

#include <openssl/evp.h>

#include <chrono>

#include "detail/utf8.hpp"

namespace corps {

namespace {

// `bytes`' SHA-256 in lowercase hex.
std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 15];
  }
  return hex;
}

}  // namespace

proto::DeadLetter make_dead_letter(const Record& record, const Error& error, int attempts,
                                   std::string_view consumer_group, std::string_view service) {
  proto::DeadLetter letter;
  letter.set_topic(detail::to_valid_utf8(record.topic()));
  letter.set_partition(record.partition());
  letter.set_offset(record.offset());
  letter.set_timestamp_ms(record.timestamp_ms());
  if (const auto key = record.key()) {
    letter.set_key(std::string(*key));
    letter.set_has_key(true);
  }
  for (const auto& header : record.headers()) {
    auto* kept = letter.add_headers();
    // proto3 strings must be UTF-8, or the letter would not parse again.
    if (detail::is_valid_utf8(header.name)) {
      kept->set_name(header.name);
    } else {
      kept->set_name(detail::to_valid_utf8(header.name));
      kept->set_name_bytes(header.name);
    }
    if (header.value) {
      kept->set_value(*header.value);
    } else {
      kept->set_null_value(true);
    }
  }
  if (const auto value = record.value()) {
    letter.set_value(std::string(*value));
  } else {
    letter.set_null_value(true);
  }
  letter.set_stage(std::string(to_string(error.stage())));
  letter.set_code(std::string(to_string(error.code())));
  letter.set_error(detail::to_valid_utf8(error.to_string()));
  letter.set_attempts(attempts);
  letter.set_failed_at(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  letter.set_consumer_group(detail::to_valid_utf8(consumer_group));
  letter.set_service(detail::to_valid_utf8(service));
  return letter;
}

proto::DeadLetter truncate_dead_letter(proto::DeadLetter letter) {
  if (letter.truncated()) return letter;
  letter.set_truncated(true);
  // An error message (a handler's what()) may be as large as anything: the
  // truncated letter keeps its start.
  constexpr std::size_t error_kept = 16 * 1024;
  if (letter.error().size() > error_kept) {
    const std::size_t dropped = letter.error().size() - error_kept;
    std::string kept =
        detail::to_valid_utf8(std::string_view(letter.error()).substr(0, error_kept));
    letter.set_error(kept + "... (" + std::to_string(dropped) + " more bytes)");
  }
  letter.set_value_size(letter.null_value() ? -1
                                            : static_cast<std::int64_t>(letter.value().size()));
  if (!letter.null_value()) letter.set_value_sha256(sha256_hex(letter.value()));
  letter.clear_value();
  letter.set_key_size(letter.has_key() ? static_cast<std::int64_t>(letter.key().size()) : -1);
  letter.clear_key();
  std::int64_t header_bytes = 0;
  for (const auto& header : letter.headers()) {
    header_bytes += static_cast<std::int64_t>(
        (header.name_bytes().empty() ? header.name().size() : header.name_bytes().size()) +
        header.value().size());
  }
  letter.set_header_count(letter.headers_size());
  letter.set_header_bytes(header_bytes);
  letter.clear_headers();
  return letter;
}

std::string_view header_name(const proto::DeadLetterHeader& header) noexcept {
  return header.name_bytes().empty() ? std::string_view(header.name())
                                     : std::string_view(header.name_bytes());
}

}  // namespace corps
