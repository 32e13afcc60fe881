#include "corps/trace_context.hpp"

#include <algorithm>
#include <array>

#include "corps/record.hpp"

namespace corps {

namespace {

thread_local const TraceContext* innermost_scope = nullptr;

constexpr char hex_digits[] = "0123456789abcdef";

// Per byte: 1 for a lowercase hex digit, 2 for an uppercase one. A table:
// every record sent checks its 32-digit trace id.
constexpr auto hex_kinds = [] {
  std::array<unsigned char, 256> kinds{};
  for (int c = '0'; c <= '9'; ++c) kinds[c] = 1;
  for (int c = 'a'; c <= 'f'; ++c) kinds[c] = 1;
  for (int c = 'A'; c <= 'F'; ++c) kinds[c] = 2;
  return kinds;
}();

bool is_hex(char c, bool upper_allowed) noexcept {
  const unsigned char kind = hex_kinds[static_cast<unsigned char>(c)];
  return kind == 1 || (upper_allowed && kind == 2);
}

// `text` is `size` hex digits, not all zero (W3C's rule for both ids).
bool is_hex_id(std::string_view text, std::size_t size, bool upper_allowed) noexcept {
  if (text.size() != size) return false;
  const unsigned char allowed = upper_allowed ? 3 : 1;
  unsigned char all = 1;
  bool nonzero = false;
  for (const char c : text) {
    const unsigned char kind = hex_kinds[static_cast<unsigned char>(c)];
    all &= static_cast<unsigned char>(kind != 0 && (kind & allowed) != 0);
    nonzero |= c != '0';
  }
  return all != 0 && nonzero;
}

char lower(char c) noexcept {
  return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
}

void append_lower(std::string& out, std::string_view text) {
  for (const char c : text) out += lower(c);
}

// FNV-1a, then SplitMix64's finalizer to spread uuids that differ only in
// their last characters across all 64 bits.
std::uint64_t span_bits_of_uuid(std::string_view uuid) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : uuid) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  return hash == 0 ? 1 : hash;  // an all-zero span id is invalid
}

// 16 hex digits of `bits` at `out`.
void write_hex(char* out, std::uint64_t bits) noexcept {
  for (int i = 15; i >= 0; --i, bits >>= 4) out[i] = hex_digits[bits & 0xF];
}

}  // namespace

bool is_trace_id(std::string_view text) noexcept {
  return is_hex_id(text, 32, true);
}

bool is_span_id(std::string_view text) noexcept {
  return is_hex_id(text, 16, false);
}

std::string_view traceparent_trace_id(std::string_view value) noexcept {
  // version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2 = 55.
  if (value.size() < 55) return {};
  const auto version = value.substr(0, 2);
  if (!is_hex(version[0], false) || !is_hex(version[1], false) || version == "ff") return {};
  // Version 00 is exactly 55 characters; a later one may add fields after
  // a dash, which a version-00 reader skips.
  if (version == "00" ? value.size() != 55 : value.size() > 55 && value[55] != '-') return {};
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return {};
  const auto trace_id = value.substr(3, 32);
  if (!is_hex_id(trace_id, 32, false) || !is_hex_id(value.substr(36, 16), 16, false) ||
      !is_hex(value[53], false) || !is_hex(value[54], false)) {
    return {};
  }
  return trace_id;
}

std::optional<TraceContext> parse_traceparent(std::string_view value) {
  const auto trace_id = traceparent_trace_id(value);
  if (trace_id.empty()) return std::nullopt;
  const char low_flags = value[54];
  const int flag_bits = low_flags >= 'a' ? low_flags - 'a' + 10 : low_flags - '0';
  return TraceContext{.trace_id = std::string(trace_id),
                      .span_id = std::string(value.substr(36, 16)),
                      .parent_span_id = {},
                      .sampled = (flag_bits & 1) != 0};
}

std::string format_traceparent(const TraceContext& context) {
  std::string out;
  out.reserve(55);
  out += "00-";
  append_lower(out, context.trace_id);
  out += '-';
  append_lower(out, context.span_id);
  out += context.sampled ? "-01" : "-00";
  return out;
}

std::string span_id_of_uuid(std::string_view uuid) {
  std::string out(16, '0');
  write_hex(out.data(), span_bits_of_uuid(uuid));
  return out;
}

const TraceContext* current_trace() noexcept {
  return innermost_scope;
}

TraceScope::TraceScope(TraceContext context) noexcept
    : context_(std::move(context)), hidden_(innermost_scope) {
  innermost_scope = &*context_;
}

TraceScope::TraceScope(const Record& record)
    : context_(record.trace_context()), hidden_(innermost_scope) {
  // A record with no trace hides the outer one all the same: what is sent
  // while handling it is not part of the outer record's work.
  innermost_scope = context_ ? &*context_ : nullptr;
}

TraceScope::~TraceScope() {
  innermost_scope = hidden_;
}

TraceHeaders TraceHeaders::of(std::string_view trace_id, std::string_view uuid) {
  // Written in place: this runs for every record sent.
  TraceHeaders headers;
  if (!is_trace_id(trace_id)) return headers;
  const TraceContext* parent = current_trace();
  const bool continues = parent != nullptr && parent->trace_id.size() == trace_id.size() &&
                         std::equal(trace_id.begin(), trace_id.end(), parent->trace_id.begin(),
                                    [](char a, char b) { return lower(a) == lower(b); });
  std::array<char, 55> text{};
  text[0] = '0';
  text[1] = '0';
  text[2] = '-';
  for (std::size_t i = 0; i < 32; ++i) text[3 + i] = lower(trace_id[i]);
  text[35] = '-';
  write_hex(&text[36], span_bits_of_uuid(uuid));
  text[52] = '-';
  text[53] = '0';
  text[54] = !continues || parent->sampled ? '1' : '0';
  headers.traceparent.assign({text.data(), text.size()});
  if (continues) headers.parent_span.assign(parent->span_id);
  return headers;
}

}  // namespace corps
