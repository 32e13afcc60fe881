#include "record_printer.hpp"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "corps/headers.hpp"
#include "corps/metadata.pb.h"
#include "detail/utf8.hpp"

namespace corps::cli {

namespace pb = google::protobuf;

namespace {

std::string message_json(const pb::Message& message) {
  std::string json;
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!pb::util::MessageToJsonString(message, &json, options).ok()) return "null";
  return json;
}

// `text` (valid UTF-8) as a JSON string, quotes included (RFC 8259).
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char digits[] = "0123456789abcdef";
          out += "\\u00";
          out += digits[(c >> 4) & 0xF];
          out += digits[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out + '"';
}

// Bytes from the wire as a JSON string: anything that is not UTF-8 becomes
// U+FFFD, or the line would not be JSON.
std::string json_bytes(std::string_view bytes) {
  return json_string(detail::to_valid_utf8(bytes));
}

// `bytes` in standard base64 (RFC 4648), padded.
std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                   static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += alphabet[(n >> shift) & 63];
  }
  if (const auto left = bytes.size() - i; left > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (left == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += left == 2 ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A header's value as JSON: text as a string; corps's metadata header (a
// serialized MessageData) as its JSON object; other bytes that are not
// UTF-8 as {"base64": "..."}, so they are not lost as U+FFFD.
std::string header_value_json(std::string_view name, const std::optional<std::string>& value) {
  if (!value) return "null";
  if (name == metadata_header) {
    proto::MessageData metadata;
    if (metadata.ParseFromString(*value)) return message_json(metadata);
  }
  if (detail::is_valid_utf8(*value)) return json_string(*value);
  return "{\"base64\":\"" + base64(*value) + "\"}";
}

// The headers as one JSON object, names in the order they first appear; a
// name that repeats holds the array of its values, in order, so none is lost.
std::string headers_json(const Headers& headers) {
  std::vector<std::string> names;
  std::map<std::string, std::vector<const std::optional<std::string>*>> values;
  for (const auto& header : headers) {
    const std::string name = detail::to_valid_utf8(header.name);
    auto& of_name = values[name];
    if (of_name.empty()) names.push_back(name);
    of_name.push_back(&header.value);
  }
  std::string out = "{";
  for (const auto& name : names) {
    if (out.size() > 1) out += ',';
    out += json_string(name) + ':';
    const auto& of_name = values[name];
    if (of_name.size() == 1) {
      out += header_value_json(name, *of_name.front());
      continue;
    }
    out += '[';
    for (std::size_t i = 0; i < of_name.size(); ++i) {
      if (i != 0) out += ',';
      out += header_value_json(name, *of_name[i]);
    }
    out += ']';
  }
  return out + '}';
}

// The headers as name=value,...; values as in JSON, but text bare and other
// bytes as base64:....
std::string headers_text(const Headers& headers) {
  std::string out;
  for (const auto& header : headers) {
    if (!out.empty()) out += ',';
    out += detail::to_valid_utf8(header.name) + '=';
    if (!header.value) continue;
    if (header.name == metadata_header || !detail::is_valid_utf8(*header.value)) {
      const std::string json = header_value_json(header.name, header.value);
      out += json.starts_with("{\"base64\":") ? "base64:" + base64(*header.value) : json;
      continue;
    }
    out += *header.value;
  }
  return out;
}

}  // namespace

std::string to_hex(std::string_view bytes, std::size_t limit) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  const auto shown = std::min(bytes.size(), limit);
  out.reserve(shown * 2 + 3);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out += digits[byte >> 4];
    out += digits[byte & 0xF];
  }
  if (shown < bytes.size()) out += "...";
  return out;
}

namespace {

// What each %-letter of a format string prints: the one list that both
// printing and checking a format string read.
struct FormatToken {
  char letter;
  std::string (*expand)(const Record& record);
};

std::string optional_size(std::optional<std::string_view> bytes) {
  return bytes ? std::to_string(bytes->size()) : "-1";
}

constexpr FormatToken format_tokens[] = {
    {'t', [](const Record& r) { return r.topic(); }},
    {'p', [](const Record& r) { return std::to_string(r.partition()); }},
    {'o', [](const Record& r) { return std::to_string(r.offset()); }},
    {'k', [](const Record& r) { return r.key() ? std::string(*r.key()) : std::string(); }},
    {'K', [](const Record& r) { return optional_size(r.key()); }},
    {'s', [](const Record& r) { return r.ok() ? message_json(r.message()) : std::string(); }},
    {'S', [](const Record& r) { return optional_size(r.value()); }},
    {'h', [](const Record& r) { return headers_text(r.headers()); }},
    {'T', [](const Record& r) { return std::to_string(r.timestamp_ms()); }},
    {'y',
     [](const Record& r) {
       return r.ok() ? r.message().GetDescriptor()->full_name() : std::string();
     }},
    {'u', [](const Record& r) { return r.ok() ? r.metadata().uuid() : std::string(); }},
    {'i', [](const Record& r) { return r.ok() ? r.metadata().trace_id() : std::string(); }},
    {'e', [](const Record& r) { return r.ok() ? std::string() : r.error().to_string(); }},
    {'%', [](const Record&) { return std::string("%"); }},
};

const FormatToken* find_token(char letter) {
  for (const auto& token : format_tokens) {
    if (token.letter == letter) return &token;
  }
  return nullptr;
}

}  // namespace

RecordPrinter::RecordPrinter(std::ostream& out, std::ostream& errors, OutputFormat format,
                             std::string format_string, ValueShown shown)
    : out_(out),
      errors_(errors),
      format_(format),
      format_string_(std::move(format_string)),
      shown_(shown) {}

std::vector<std::string> RecordPrinter::unknown_tokens(std::string_view format_string) {
  std::vector<std::string> unknown;
  for (std::size_t i = 0; i + 1 < format_string.size(); ++i) {
    if (format_string[i] == '\\') {
      ++i;
      continue;
    }
    if (format_string[i] != '%') continue;
    const char letter = format_string[++i];
    if (find_token(letter) == nullptr) {
      unknown.push_back(std::string("%") + letter);
    }
  }
  return unknown;
}

void RecordPrinter::print(const Record& record) {
  switch (format_) {
    case OutputFormat::json: print_json(record); break;
    case OutputFormat::text: print_text(record); break;
    case OutputFormat::format_string: print_format(record); break;
  }
  out_.flush();
}

void RecordPrinter::print_json(const Record& record) {
  // Written field by field, in a fixed order, so that the same record prints
  // the same line every time; the message in its fields' order, as
  // protobuf's JSON printer writes it.
  std::string line = "{\"topic\":" + json_bytes(record.topic()) +
                     ",\"partition\":" + std::to_string(record.partition()) +
                     ",\"offset\":" + std::to_string(record.offset());
  if (record.timestamp_ms() >= 0)
    line += ",\"timestamp_ms\":" + std::to_string(record.timestamp_ms());
  line += ",\"key\":" + (record.key() ? json_bytes(*record.key()) : std::string("null"));
  line += ",\"headers\":" + headers_json(record.headers());
  if (shown_ == ValueShown::raw) {
    line += ",\"value_base64\":" +
            (record.value() ? json_string(base64(*record.value())) : std::string("null"));
  } else if (record.ok()) {
    line += ",\"type\":" + json_string(record.message().GetDescriptor()->full_name());
    line += ",\"message\":" + message_json(record.message());
  } else {
    line += ",\"error\":{\"stage\":" + json_string(to_string(record.error().stage())) +
            ",\"code\":" + json_string(to_string(record.error().code())) +
            ",\"message\":" + json_bytes(record.error().message()) + "}";
    line += ",\"value_hex\":" +
            (record.value() ? json_string(to_hex(*record.value())) : std::string("null"));
  }
  out_ << line << "}\n";
}

void RecordPrinter::print_text(const Record& record) {
  if (shown_ == ValueShown::raw) {
    out_ << "--- " << record.location().to_string();
    if (record.key()) out_ << " key=" << *record.key();
    if (!record.headers().empty()) out_ << " headers=" << headers_text(record.headers());
    out_ << '\n' << (record.value() ? base64(*record.value()) : std::string("(null)")) << '\n';
    return;
  }
  if (!record.ok()) {
    errors_ << "ERROR " << record.error().to_string() << "; value ("
            << (record.value() ? std::to_string(record.value()->size()) + " bytes"
                               : std::string("null"))
            << "): " << (record.value() ? to_hex(*record.value()) : "") << std::endl;
    return;
  }
  out_ << "--- " << record.location().to_string() << ' '
       << record.message().GetDescriptor()->full_name();
  if (record.key()) out_ << " key=" << *record.key();
  if (!record.headers().empty()) out_ << " headers=" << headers_text(record.headers());
  out_ << '\n';
  std::string text;
  pb::TextFormat::PrintToString(record.message(), &text);
  out_ << text;
}

void RecordPrinter::print_format(const Record& record) {
  std::string out;
  for (std::size_t i = 0; i < format_string_.size(); ++i) {
    const char c = format_string_[i];
    if (c == '\\' && i + 1 < format_string_.size()) {
      const char next = format_string_[++i];
      out += next == 'n' ? '\n' : next == 't' ? '\t' : next;
      continue;
    }
    if (c != '%' || i + 1 >= format_string_.size()) {
      out += c;
      continue;
    }
    const char letter = format_string_[++i];
    if (shown_ == ValueShown::raw && letter == 's') {
      if (record.value()) out += *record.value();
    } else if (shown_ == ValueShown::raw && letter == 'e') {
      // Not decoded, so not failed.
    } else if (const auto* token = find_token(letter)) {
      out += token->expand(record);
    } else {
      out += '%';
      out += letter;
    }
  }
  out_ << out;
}

}  // namespace corps::cli
