// How `corps consume` prints a record: a JSON object per line (for jq),
// protobuf text format, or a kcat-style format string. Messages are printed
// by protobuf's own JSON and text printers.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "corps/record.hpp"

namespace corps::cli {

/// The output formats.
enum class OutputFormat { json, text, format_string };

/// What a record's value is shown as: its message, decoded, or its bytes
/// as they came (`corps consume --raw`), which never fails.
enum class ValueShown { decoded, raw };

/// Prints records to a stream. Not thread-safe.
class RecordPrinter {
 public:
  /// `format_string` is used with OutputFormat::format_string: %t topic,
  /// %p partition, %o offset, %k key, %K key length (-1: none), %s message
  /// (JSON), %S value size (-1: null), %h headers, %T timestamp (ms), %y
  /// type, %u uuid, %i trace id, %e error, \n, \t, %%. Records that did
  /// not decode go to `out` too, except in text, where their error lines go
  /// to `errors` (as kcat's do). With ValueShown::raw every record prints
  /// its value's bytes: in JSON as "value_base64", in text as a base64 line,
  /// and in a format string %s is the bytes as they are, as kcat's is.
  RecordPrinter(std::ostream& out, std::ostream& errors, OutputFormat format,
                std::string format_string = {}, ValueShown shown = ValueShown::decoded);

  /// Prints a record. In JSON a record that did not decode is an object
  /// with its error and raw value in hex, and in a format string %e is its
  /// error (its message's tokens print nothing); in text it is an error
  /// line on `errors`. A JSON line is always JSON, its keys in a fixed order:
  /// bytes of keys, headers and errors that are not UTF-8 print as U+FFFD,
  /// and a header name that repeats holds the array of its values.
  void print(const Record& record);

  /// The % tokens of `format_string` that mean nothing, e.g. "%K" misspelt.
  [[nodiscard]] static std::vector<std::string> unknown_tokens(std::string_view format_string);

 private:
  void print_json(const Record& record);
  void print_text(const Record& record);
  void print_format(const Record& record);

  std::ostream& out_;
  std::ostream& errors_;
  OutputFormat format_;
  std::string format_string_;
  ValueShown shown_;
};

/// `bytes` as lowercase hex, at most `limit` bytes of it followed by "...".
[[nodiscard]] std::string to_hex(std::string_view bytes, std::size_t limit = 4096);

}  // namespace corps::cli
