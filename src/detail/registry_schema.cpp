#include "detail/registry_schema.hpp"

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "corps/error.hpp"
#include "detail/proto_text_limits.hpp"

namespace corps::detail {

namespace pb = google::protobuf;

namespace {

[[noreturn]] void invalid(std::string message) {
  throw Exception(Error(Errc::invalid_schema, Stage::schema, std::move(message)));
}

// The bytes `text` encodes in standard base64, or nullopt if it is not
// strictly that (.proto text never is: it has spaces, braces, semicolons).
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  const bool alphabet = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
  });
  if (!alphabet) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()),
                                      static_cast<int>(text.size()));
  if (written < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding's bytes too.
  std::size_t size = static_cast<std::size_t>(written);
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) --size;
  out.resize(size);
  return out;
}

// Errors as "line:column: message", numbered as in the text the user gave:
// `lines_before` lines were put before it.
class ParseErrors final : public pb::io::ErrorCollector {
 public:
  explicit ParseErrors(int lines_before = 0) : lines_before_(lines_before) {}
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (!errors.empty()) errors += "; ";
    errors += std::to_string(line + 1 - lines_before_) + ":" + std::to_string(column + 1) + ": " +
              message;
  }
  std::string errors;

 private:
  int lines_before_;
};

// Whether `schema` opens with a syntax statement (after comments). Read
// with the parser told to stop there, which also keeps it from logging.
bool has_syntax_statement(std::string_view schema) {
  pb::io::ArrayInputStream input(schema.data(), static_cast<int>(schema.size()));
  ParseErrors ignored;
  pb::io::Tokenizer tokenizer(&input, &ignored);
  pb::compiler::Parser parser;
  parser.RecordErrorsTo(&ignored);
  parser.SetStopAfterSyntaxIdentifier(true);
  (void)parser.Parse(&tokenizer, nullptr);
  return !parser.GetSyntaxIdentifier().empty();
}

// What protoc reads a file without a syntax statement as. protobuf's parser
// says so on stderr with a GOOGLE_LOG warning, which a server must not
// print for every request; the text is given this line before its own.
constexpr std::string_view implied_syntax_line = "syntax = \"proto2\";\n";

class BuildErrors final : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& file, const std::string& element, const pb::Message*,
                ErrorLocation, const std::string& message) override {
    if (!errors.empty()) errors += "; ";
    errors += file + (element.empty() ? "" : " (" + element + ")") + ": " + message;
  }
  std::string errors;
};

// The files of one schema and its references, and the pool built over them
// (with the compiled types behind them); the pool reads its databases
// lazily, so they live together.
struct BuiltSchema {
  pb::SimpleDescriptorDatabase files;
  pb::DescriptorPoolDatabase compiled{*pb::DescriptorPool::generated_pool()};
  // The schema's own files first: a reference overrides a compiled file of
  // the same name.
  pb::MergedDescriptorDatabase merged{&files, &compiled};
  BuildErrors errors;
  pb::DescriptorPool pool{&merged, &errors};
};

// Adds `proto` and, depth first, each import a reference names.
void add_with_references(BuiltSchema& built, const pb::FileDescriptorProto& proto,
                         const std::vector<SchemaReference>& references,
                         const FetchReference& fetch, std::set<std::string>& seen) {
  if (!seen.insert(proto.name()).second) return;
  for (const auto& import : proto.dependency()) {
    const auto reference = std::find_if(references.begin(), references.end(),
                                        [&](const SchemaReference& r) { return r.name == import; });
    if (reference == references.end() || seen.contains(import)) continue;
    const Schema fetched = fetch(*reference);
    auto imported = parse_protobuf_schema(fetched.schema, import);
    // An import is known by the name its importer uses.
    imported.set_name(import);
    add_with_references(built, imported, fetched.references, fetch, seen);
  }
  if (!built.files.Add(proto)) invalid("schema file '" + proto.name() + "' is given twice");
}

}  // namespace

pb::FileDescriptorProto parse_protobuf_schema(std::string_view schema,
                                              const std::string& file_name) {
  pb::FileDescriptorProto proto;
  if (const auto bytes = decode_base64(schema)) {
    if (!proto.ParseFromString(*bytes)) {
      invalid("schema for '" + file_name + "' is base64 but not a serialized FileDescriptorProto");
    }
    if (proto.name().empty()) proto.set_name(file_name);
    return proto;
  }
  if (const auto refusal = proto_text_refusal(schema)) {
    invalid("schema for '" + file_name + "' " + *refusal);
  }
  const bool implied_syntax = !has_syntax_statement(schema);
  pb::io::ArrayInputStream syntax_line(implied_syntax_line.data(),
                                       static_cast<int>(implied_syntax_line.size()));
  pb::io::ArrayInputStream text(schema.data(), static_cast<int>(schema.size()));
  pb::io::ZeroCopyInputStream* parts[] = {&syntax_line, &text};
  pb::io::ConcatenatingInputStream input(implied_syntax ? parts : parts + 1,
                                         implied_syntax ? 2 : 1);
  ParseErrors errors(implied_syntax ? 1 : 0);
  pb::io::Tokenizer tokenizer(&input, &errors);
  pb::compiler::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.Parse(&tokenizer, &proto) || !errors.errors.empty()) {
    invalid("schema for '" + file_name + "' does not parse as .proto text: " + errors.errors);
  }
  proto.set_name(file_name);
  return proto;
}

std::string canonical_protobuf_schema(const Schema& schema) {
  std::string key;
  try {
    auto proto = parse_protobuf_schema(schema.schema, "");
    // Where each element was written, and what the file is called, are not
    // the schema; no syntax statement is proto2.
    proto.clear_source_code_info();
    proto.clear_name();
    if (proto.syntax() == "proto2") proto.clear_syntax();
    key = "canonical:";
    key += proto.SerializeAsString();
  } catch (const Exception&) {
    key = "text:" + schema.schema_type + ":" + schema.schema;
  }
  for (const auto& r : schema.references) {
    key += '\0' + r.name + '\0' + r.subject + '\0' + std::to_string(r.version);
  }
  return key;
}

std::string proto_text(const pb::FileDescriptor& file) {
  return file.DebugString();
}

std::shared_ptr<const pb::FileDescriptor> build_protobuf_schema(const Schema& schema,
                                                                const std::string& file_name,
                                                                const FetchReference& fetch) {
  if (schema.schema_type != "PROTOBUF") {
    invalid("schema for '" + file_name + "' is " + schema.schema_type + ", not PROTOBUF");
  }
  auto built = std::make_shared<BuiltSchema>();
  const auto root = parse_protobuf_schema(schema.schema, file_name);
  std::set<std::string> seen;
  add_with_references(*built, root, schema.references, fetch, seen);
  const pb::FileDescriptor* file = built->pool.FindFileByName(root.name());
  if (file == nullptr) {
    invalid("schema for '" + file_name + "' does not build: " +
            (built->errors.errors.empty() ? "an import is missing" : built->errors.errors));
  }
  return {std::move(built), file};
}

}  // namespace corps::detail
