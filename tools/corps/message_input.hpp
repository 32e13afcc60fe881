// How `corps produce` reads a message: one message of the channel's type
// from JSON (protobuf's JSON mapping) or protobuf text format. A function of
// its own, apart from the command, because it takes text from outside and
// the fuzzers call it directly (fuzz/cli_input_fuzzer.cpp).
#pragma once

#include <google/protobuf/message.h>

#include <optional>
#include <string>
#include <string_view>

namespace corps::cli {

/// The syntaxes `corps produce --input` accepts.
enum class InputSyntax { json, text };

/// Fills `message` (of the channel's type, generated or dynamic) from `text`.
/// Returns nothing on success, otherwise what was wrong (for text format,
/// each complaint with its line and column). Never throws for bad input.
[[nodiscard]] std::optional<std::string> parse_message(std::string_view text, InputSyntax syntax,
                                                       google::protobuf::Message& message);

}  // namespace corps::cli
