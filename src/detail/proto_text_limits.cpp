#include "detail/proto_text_limits.hpp"

namespace corps::detail {

std::optional<std::string> proto_text_refusal(std::string_view text) {
  if (text.size() > max_proto_text_bytes) {
    return "is " + std::to_string(text.size()) + " bytes of .proto text; at most " +
           std::to_string(max_proto_text_bytes) + " are taken";
  }
  int depth = 0;
  int line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
      --i;  // the newline is counted above
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      for (i += 2; i + 1 < text.size() && !(text[i] == '*' && text[i + 1] == '/'); ++i) {
        if (text[i] == '\n') ++line;
      }
      ++i;
    } else if (c == '"' || c == '\'') {
      for (++i; i < text.size() && text[i] != c && text[i] != '\n'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '{') {
      if (++depth > max_proto_nesting) {
        return "nests blocks more than " + std::to_string(max_proto_nesting) +
               " levels deep (at line " + std::to_string(line) + "); at most " +
               std::to_string(max_proto_nesting) + " are taken";
      }
    } else if (c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace corps::detail
