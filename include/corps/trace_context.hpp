// W3C trace context on the wire: the `traceparent` record header.
//
// MessageCorps's metadata carries a trace_id of 32 hex digits, which is
// also a valid W3C trace id. corps writes it, with a span id of its own for
// each record, as a `traceparent` header (`00-<trace-id>-<span-id>-01`), the
// header OpenTelemetry's Kafka instrumentations write and read in Java and
// Python. So a trace that starts in a corps service can be followed by any
// of them, and one they start by a corps service:
//
//   produce   traceparent = 00-<metadata.trace_id>-<span of this record>-01
//   continue  a send made while handling a record (inside a TraceScope,
//             which Consumer::run opens around its handler) keeps that
//             record's trace id and names its span in `corps-parent-span`
//   consume   a record with a traceparent but no trace_id in its metadata
//             (from an instrumented Java or Python producer) has trace_id
//             filled from the header
//
// A record's span id is derived from its metadata uuid (unique per record),
// so a record's span can be named even when it came without a header.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corps {

class Record;

/// The header W3C trace context is carried in.
inline constexpr std::string_view traceparent_header = "traceparent";

/// The header in which corps names the span of the record a record was sent
/// in response to (16 hex digits); absent on a record that starts a trace.
inline constexpr std::string_view parent_span_header = "corps-parent-span";

/// Where a record sits in a trace.
struct TraceContext {
  /// 32 lowercase hex digits, not all zero.
  std::string trace_id;
  /// This record's span: 16 lowercase hex digits, not all zero.
  std::string span_id;
  /// The span of the record this one was sent in response to, or empty.
  std::string parent_span_id;
  /// W3C's "sampled" flag: whether the sender recorded the trace.
  bool sampled = true;

  friend bool operator==(const TraceContext&, const TraceContext&) = default;
};

/// True if `text` is a W3C trace id: 32 hex digits (either case), not all
/// zero. MessageCorps's trace ids (uuid hex) are.
[[nodiscard]] bool is_trace_id(std::string_view text) noexcept;

/// True if `text` is a W3C span id: 16 lowercase hex digits, not all zero.
[[nodiscard]] bool is_span_id(std::string_view text) noexcept;

/// The trace context of a `traceparent` header's value, or nullopt if it is
/// not version 00's format (or a later version's, read as W3C says: its
/// first 55 characters). Upper-case hex is refused, as W3C says.
[[nodiscard]] std::optional<TraceContext> parse_traceparent(std::string_view value);

/// The trace id of a valid `traceparent` header's value (a view into it),
/// or empty: what parse_traceparent() reads, without allocating.
[[nodiscard]] std::string_view traceparent_trace_id(std::string_view value) noexcept;

/// `context` as a `traceparent` header's value: 00-trace-span-flags.
[[nodiscard]] std::string format_traceparent(const TraceContext& context);

/// The span id of the record whose metadata uuid is `uuid`: 16 hex digits
/// hashed from it, never all zero.
[[nodiscard]] std::string span_id_of_uuid(std::string_view uuid);

/// The trace a send on this thread continues: the innermost TraceScope's,
/// or nullptr.
[[nodiscard]] const TraceContext* current_trace() noexcept;

/// Makes records sent on this thread, while it lives, continue a trace:
/// a message whose metadata has no trace_id takes `context`'s, and names
/// its span as parent. Consumer::run opens one around each handler call;
/// code that polls or iterates opens its own:
///
///   for (const auto& record : consumer) {
///     corps::TraceScope scope(record);
///     producer.send("Predictions", predict(record.as<Image>()));
///   }
///
/// Scopes nest; each restores the one it hid. Not movable: it lives in a
/// block on one thread.
class TraceScope {
 public:
  explicit TraceScope(TraceContext context) noexcept;
  /// The trace of `record` (nothing to continue if it has none).
  explicit TraceScope(const Record& record);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  std::optional<TraceContext> context_;
  const TraceContext* hidden_;
};

/// Text of at most N characters held in place: an encoded record's trace
/// headers cost no allocation.
template <std::size_t N>
class FixedText {
 public:
  /// Keeps `text`, which must fit (longer text is cut at N).
  void assign(std::string_view text) noexcept {
    size_ = text.size() < N ? text.size() : N;
    for (std::size_t i = 0; i < size_; ++i) bytes_[i] = text[i];
  }
  void clear() noexcept { size_ = 0; }
  [[nodiscard]] std::string_view view() const noexcept { return {bytes_.data(), size_}; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  std::array<char, N> bytes_{};
  std::size_t size_ = 0;
};

/// A record's trace headers as written: `traceparent` (empty when its
/// metadata's trace_id is not a W3C trace id) and `corps-parent-span`
/// (empty unless it continues a trace).
struct TraceHeaders {
  FixedText<55> traceparent;
  FixedText<16> parent_span;

  /// The headers of a record stamped with `trace_id` and `uuid`, sent on
  /// this thread now: a parent span when current_trace() has this trace id.
  [[nodiscard]] static TraceHeaders of(std::string_view trace_id, std::string_view uuid);
};

}  // namespace corps
