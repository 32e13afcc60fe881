#include "record_printer.hpp"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include "detail/utf8.hpp"

namespace corps::cli {

namespace pb = google::protobuf;

namespace {

std::string message_json(const pb::Message& message) {
  std::string json;
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)pb::util::MessageToJsonString(message, &json, options);
  return json;
}

std::string headers_text(const Headers& headers) {
  std::string out;
  for (const auto& header : headers) {
    if (!out.empty()) out += ',';
    out += header.name + '=' + (header.value ? *header.value : "");
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

RecordPrinter::RecordPrinter(std::ostream& out, OutputFormat format, std::string format_string)
    : out_(out), format_(format), format_string_(std::move(format_string)) {}

void RecordPrinter::print(const Record& record) {
  switch (format_) {
    case OutputFormat::json: print_json(record); break;
    case OutputFormat::text: print_text(record); break;
    // A record that did not decode has nothing to fill the format with:
    // it gets the error line.
    case OutputFormat::format_string:
      record.ok() ? print_format(record) : print_text(record);
      break;
  }
  out_.flush();
}

void RecordPrinter::print_json(const Record& record) {
  // The envelope is a Struct, so protobuf's printer writes all of it. Keys,
  // header names and values are bytes, and an error message may quote them:
  // they go through to_valid_utf8, or the line would not be JSON.
  pb::Struct line;
  auto& fields = *line.mutable_fields();
  fields["topic"].set_string_value(detail::to_valid_utf8(record.topic()));
  fields["partition"].set_number_value(record.partition());
  fields["offset"].set_number_value(static_cast<double>(record.offset()));
  if (record.key()) {
    fields["key"].set_string_value(detail::to_valid_utf8(*record.key()));
  } else {
    fields["key"].set_null_value(pb::NULL_VALUE);
  }
  auto& headers = *fields["headers"].mutable_struct_value()->mutable_fields();
  for (const auto& header : record.headers()) {
    auto& value = headers[detail::to_valid_utf8(header.name)];
    if (header.value) {
      value.set_string_value(detail::to_valid_utf8(*header.value));
    } else {
      value.set_null_value(pb::NULL_VALUE);
    }
  }
  if (record.timestamp_ms() >= 0)
    fields["timestamp_ms"].set_number_value(static_cast<double>(record.timestamp_ms()));
  if (record.ok()) {
    fields["type"].set_string_value(record.message().GetDescriptor()->full_name());
    pb::Struct message;
    (void)pb::util::JsonStringToMessage(message_json(record.message()), &message);
    *fields["message"].mutable_struct_value() = std::move(message);
  } else {
    auto& error = *fields["error"].mutable_struct_value()->mutable_fields();
    error["stage"].set_string_value(std::string(to_string(record.error().stage())));
    error["code"].set_string_value(std::string(to_string(record.error().code())));
    error["message"].set_string_value(detail::to_valid_utf8(record.error().message()));
    if (record.value()) {
      fields["value_hex"].set_string_value(to_hex(*record.value()));
    } else {
      fields["value_hex"].set_null_value(pb::NULL_VALUE);
    }
  }
  std::string json;
  (void)pb::util::MessageToJsonString(line, &json);
  out_ << json << '\n';
}

void RecordPrinter::print_text(const Record& record) {
  if (!record.ok()) {
    out_ << "ERROR " << record.error().to_string() << "; value ("
         << (record.value() ? std::to_string(record.value()->size()) + " bytes"
                            : std::string("null"))
         << "): " << (record.value() ? to_hex(*record.value()) : "") << '\n';
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
    switch (format_string_[++i]) {
      case 't': out += record.topic(); break;
      case 'p': out += std::to_string(record.partition()); break;
      case 'o': out += std::to_string(record.offset()); break;
      case 'k': out += record.key() ? std::string(*record.key()) : ""; break;
      case 's': out += record.ok() ? message_json(record.message()) : ""; break;
      case 'S': out += record.value() ? std::to_string(record.value()->size()) : "-1"; break;
      case 'h': out += headers_text(record.headers()); break;
      case 'T': out += std::to_string(record.timestamp_ms()); break;
      case 'y': out += record.ok() ? record.message().GetDescriptor()->full_name() : ""; break;
      case 'u': out += record.ok() ? record.metadata().uuid() : ""; break;
      case 'i': out += record.ok() ? record.metadata().trace_id() : ""; break;
      case 'e': out += record.ok() ? "" : record.error().to_string(); break;
      case '%': out += '%'; break;
      default: out += '%'; out += format_string_[i];
    }
  }
  out_ << out;
}

}  // namespace corps::cli
