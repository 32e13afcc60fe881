#include "message_input.hpp"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <vector>

#include "detail/utf8.hpp"

namespace corps::cli {

namespace {

namespace pb = google::protobuf;

// Collects the text parser's complaints instead of letting it log them.
class ErrorList final : public pb::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    errors += (errors.empty() ? "" : "; ") + std::to_string(line + 1) + ":" +
              std::to_string(column + 1) + ": " + message;
  }
  std::string errors;
};

// Protobuf's text parser takes escapes such as "\377" into `string` fields,
// and its serializer only logs them, but every reader refuses to parse a
// proto3 string that is not UTF-8 (proto2 strings are not checked). Returns
// the path (e.g. "detections[1].label") of the first such field, or "".
std::string find_unreadable_string(const pb::Message& message, const std::string& prefix) {
  const auto* reflection = message.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    const std::string name = prefix + field->name();
    const int count = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string path = field->is_repeated() ? name + "[" + std::to_string(i) + "]" : name;
      if (field->type() == pb::FieldDescriptor::TYPE_STRING &&
          field->file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3) {
        std::string scratch;
        const std::string& text =
            field->is_repeated()
                ? reflection->GetRepeatedStringReference(message, field, i, &scratch)
                : reflection->GetStringReference(message, field, &scratch);
        if (!detail::is_valid_utf8(text)) return path;
      } else if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        const pb::Message& child = field->is_repeated()
                                       ? reflection->GetRepeatedMessage(message, field, i)
                                       : reflection->GetMessage(message, field);
        if (auto found = find_unreadable_string(child, path + "."); !found.empty()) return found;
      }
    }
  }
  return {};
}

// A message that readers could not parse is refused here, where the user
// can still fix the input, rather than sent.
std::optional<std::string> check_readers_can_parse(const pb::Message& message) {
  const std::string field = find_unreadable_string(message, "");
  if (field.empty()) return std::nullopt;
  return "string field '" + field +
         "' is not valid UTF-8, which readers refuse to parse (binary data belongs in a bytes "
         "field)";
}

}  // namespace

std::optional<std::string> parse_message(std::string_view text, InputSyntax syntax,
                                         pb::Message& message) {
  switch (syntax) {
    case InputSyntax::json: {
      const auto status =
          pb::util::JsonStringToMessage(pb::StringPiece(text.data(), text.size()), &message);
      if (!status.ok()) return std::string(status.message());
      return check_readers_can_parse(message);
    }
    case InputSyntax::text: {
      ErrorList errors;
      pb::TextFormat::Parser parser;
      parser.RecordErrorsTo(&errors);
      if (!parser.ParseFromString(std::string(text), &message))
        return errors.errors.empty() ? "not valid text format" : errors.errors;
      return check_readers_can_parse(message);
    }
  }
  return "unknown input syntax";  // unreachable: the switch covers every syntax
}

}  // namespace corps::cli
