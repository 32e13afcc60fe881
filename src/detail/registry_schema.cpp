#include "detail/registry_schema.hpp"

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/io/tokenizer.h>
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

class ParseErrors final : public pb::io::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (!errors.empty()) errors += "; ";
    errors += std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  std::string errors;
};

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
  pb::io::ArrayInputStream input(schema.data(), static_cast<int>(schema.size()));
  ParseErrors errors;
  pb::io::Tokenizer tokenizer(&input, &errors);
  pb::compiler::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.Parse(&tokenizer, &proto) || !errors.errors.empty()) {
    invalid("schema for '" + file_name + "' does not parse as .proto text: " + errors.errors);
  }
  proto.set_name(file_name);
  return proto;
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
