// How `corps consume` prints a record: a JSON object per line (for jq),
// protobuf text format, or a kcat-style format string. Messages are printed
// by protobuf's own JSON and text printers.
#pragma once

#include <ostream>
#include <string>

#include "corps/record.hpp"

namespace corps::cli {

/// The output formats.
enum class OutputFormat { json, text, format_string };

/// Prints records to a stream. Not thread-safe.
class RecordPrinter {
 public:
  /// `format_string` is used with OutputFormat::format_string: %t topic,
  /// %p partition, %o offset, %k key, %s message (JSON), %S value size,
  /// %h headers, %T timestamp (ms), %y type, %u uuid, %i trace id,
  /// %e error, \n, \t, %%.
  RecordPrinter(std::ostream& out, OutputFormat format, std::string format_string = {});

  /// Prints a decoded record, or an error line (coordinates, error, raw
  /// value in hex) for one that did not decode. A JSON line is always JSON:
  /// bytes of keys, headers and errors that are not UTF-8 print as U+FFFD.
  void print(const Record& record);

 private:
  void print_json(const Record& record);
  void print_text(const Record& record);
  void print_format(const Record& record);

  std::ostream& out_;
  OutputFormat format_;
  std::string format_string_;
};

/// `bytes` as lowercase hex, at most `limit` bytes of it followed by "...".
[[nodiscard]] std::string to_hex(std::string_view bytes, std::size_t limit = 4096);

}  // namespace corps::cli
