// The protobuf compatibility rules the embedded registry applies, and the
// schema forms it reads (.proto text, base64 FileDescriptorProto).
#include "corps/schema_compatibility.hpp"

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>

#include "detail/registry_schema.hpp"
#include "support/expect.hpp"

namespace {

using corps::CompatibilityLevel;
using corps::SchemaChange;

std::shared_ptr<const google::protobuf::FileDescriptor> file_of(
    const std::string& body, const std::string& syntax = "proto3",
    const std::string& package = "evolve") {
  return corps::detail::build_protobuf_schema(
      {.schema = "syntax = \"" + syntax + "\";\npackage " + package + ";\n" + body}, "evolve.proto",
      [](const corps::SchemaReference&) -> corps::Schema {
        throw std::logic_error("no references");
      });
}

std::vector<std::string> problems(const std::string& older, const std::string& newer,
                                  CompatibilityLevel level, const std::string& syntax = "proto3") {
  return corps::compatibility_problems(*file_of(older, syntax), *file_of(newer, syntax), level);
}

// The kinds of difference from `older` to `newer`.
std::vector<SchemaChange> changes(const std::string& older, const std::string& newer,
                                  const std::string& syntax = "proto3") {
  std::vector<SchemaChange> kinds;
  for (const auto& d :
       corps::schema_differences(*file_of(older, syntax), *file_of(newer, syntax))) {
    kinds.push_back(d.change);
  }
  return kinds;
}

// One rule: `older` -> `newer` is a difference of `kind`, which BACKWARD
// accepts or refuses as Confluent's registry does.
void expect_rule(const std::string& older, const std::string& newer, SchemaChange kind,
                 const std::string& syntax = "proto3") {
  SCOPED_TRACE(std::string(corps::to_string(kind)));
  const auto kinds = changes(older, newer, syntax);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), kind), kinds.end());
  const auto found = problems(older, newer, CompatibilityLevel::backward, syntax);
  if (corps::is_compatible(kind)) {
    EXPECT_TRUE(found.empty()) << found.front();
  } else {
    ASSERT_FALSE(found.empty());
    EXPECT_NE(found.front().find(corps::to_string(kind)), std::string::npos) << found.front();
  }
}

TEST(SchemaCompatibility, ChangesTheWireReadsAlikeAreAllowed) {
  for (const auto& [was, now] :
       std::vector<std::pair<std::string, std::string>>{{"int32", "int64"},
                                                        {"uint64", "bool"},
                                                        {"string", "bytes"},
                                                        {"fixed32", "sfixed32"},
                                                        {"sint32", "sint64"},
                                                        {"fixed64", "sfixed64"}}) {
    EXPECT_TRUE(problems("message M { " + was + " f = 1; }", "message M { " + now + " f = 1; }",
                         CompatibilityLevel::full)
                    .empty())
        << was << " -> " << now;
  }
}

TEST(SchemaCompatibility, AScalarTheWireCarriesDifferentlyIsRefusedEitherWay) {
  for (const auto level :
       {CompatibilityLevel::backward, CompatibilityLevel::forward, CompatibilityLevel::full}) {
    const auto found = problems("message M { sint32 f = 1; }", "message M { int32 f = 1; }", level);
    ASSERT_EQ(found.size(), 1U) << corps::to_string(level);
    EXPECT_EQ(found[0],
              std::string(level == CompatibilityLevel::forward
                              ? "for old readers, from the new version to the old: "
                                "FIELD_SCALAR_KIND_CHANGED at evolve.M field 1 'f': int32 is now "
                                "sint32"
                              : "FIELD_SCALAR_KIND_CHANGED at evolve.M field 1 'f': sint32 is now "
                                "int32") +
                  ", which the wire carries differently");
  }
}

TEST(SchemaCompatibility, PackageChanged) {
  const auto found = corps::compatibility_problems(*file_of("message M {}", "proto3", "one"),
                                                   *file_of("message M {}", "proto3", "two"),
                                                   CompatibilityLevel::backward);
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0], "PACKAGE_CHANGED at evolve.proto: package 'one' is now 'two'");
}

TEST(SchemaCompatibility, MessageAddedIsBackwardButNotForward) {
  expect_rule("message M {}", "message M {} message N {}", SchemaChange::message_added);
  // Seen from the new version, the old one lacks N: Confluent's FORWARD
  // refuses it too.
  const auto found =
      problems("message M {}", "message M {} message N {}", CompatibilityLevel::forward);
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0],
            "for old readers, from the new version to the old: MESSAGE_REMOVED at evolve.N: the "
            "message is gone");
}

TEST(SchemaCompatibility, MessageRemoved) {
  expect_rule("message M {} message Gone { message Inner {} }", "message M {}",
              SchemaChange::message_removed);
}

TEST(SchemaCompatibility, MessageMoved) {
  expect_rule("message A {} message B {}", "message B {} message A {}",
              SchemaChange::message_moved);
}

TEST(SchemaCompatibility, EnumAddedAndRemoved) {
  expect_rule("message M {}", "message M {} enum E { A = 0; }", SchemaChange::enum_added);
  expect_rule("message M {} enum E { A = 0; }", "message M {}", SchemaChange::enum_removed);
}

TEST(SchemaCompatibility, EnumValueAddedRenamedAndRemoved) {
  const std::string base = "message M { E e = 1; } enum E { A = 0; B = 1; }";
  expect_rule(base, "message M { E e = 1; } enum E { A = 0; B = 1; C = 2; }",
              SchemaChange::enum_const_added);
  expect_rule(base, "message M { E e = 1; } enum E { A = 0; BEE = 1; }",
              SchemaChange::enum_const_changed);
  expect_rule(base, "message M { E e = 1; } enum E { A = 0; }", SchemaChange::enum_const_removed);
}

TEST(SchemaCompatibility, FieldAddedRemovedAndRenamed) {
  expect_rule("message M { string id = 1; }", "message M { string id = 1; int64 cents = 2; }",
              SchemaChange::field_added);
  expect_rule("message M { string id = 1; int64 cents = 2; }", "message M { string id = 1; }",
              SchemaChange::field_removed);
  expect_rule("message M { string id = 1; }", "message M { string key = 1; }",
              SchemaChange::field_name_changed);
}

TEST(SchemaCompatibility, FieldKindChanged) {
  expect_rule("message A {} message M { int32 f = 1; }", "message A {} message M { A f = 1; }",
              SchemaChange::field_kind_changed);
  expect_rule("message M { int32 f = 1; }", "message M { map<int32, int32> f = 1; }",
              SchemaChange::field_kind_changed);
}

TEST(SchemaCompatibility, FieldScalarKindChanged) {
  expect_rule("message M { int64 f = 1; }", "message M { string f = 1; }",
              SchemaChange::field_scalar_kind_changed);
  // Inside a map's values too.
  expect_rule("message M { map<string, int32> f = 1; }", "message M { map<string, string> f = 1; }",
              SchemaChange::field_scalar_kind_changed);
}

TEST(SchemaCompatibility, FieldNamedTypeChanged) {
  expect_rule("message A {} message B {} message M { A f = 1; }",
              "message A {} message B {} message M { B f = 1; }",
              SchemaChange::field_named_type_changed);
}

TEST(SchemaCompatibility, FieldNumericLabelChanged) {
  expect_rule("message M { optional int32 f = 1; }", "message M { repeated int32 f = 1; }",
              SchemaChange::field_numeric_label_changed, "proto2");
  expect_rule("message M { optional int32 f = 1; }", "message M { required int32 f = 1; }",
              SchemaChange::field_numeric_label_changed, "proto2");
  const auto found =
      problems("message M { optional int32 f = 1; }", "message M { repeated int32 f = 1; }",
               CompatibilityLevel::backward, "proto2");
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0],
            "FIELD_NUMERIC_LABEL_CHANGED at evolve.M field 1 'f': optional int32 is now repeated "
            "int32");
}

TEST(SchemaCompatibility, FieldStringOrBytesLabelChanged) {
  expect_rule("message M { optional string f = 1; }", "message M { repeated string f = 1; }",
              SchemaChange::field_string_or_bytes_label_changed, "proto2");
}

TEST(SchemaCompatibility, RequiredFieldAddedOrRemovedIsRefusedEitherWay) {
  const std::string without = "message M { optional string id = 1; }";
  const std::string with = "message M { optional string id = 1; required int64 cents = 2; }";
  expect_rule(without, with, SchemaChange::required_field_added, "proto2");
  expect_rule(with, without, SchemaChange::required_field_removed, "proto2");
  for (const auto level :
       {CompatibilityLevel::backward, CompatibilityLevel::forward, CompatibilityLevel::full}) {
    EXPECT_FALSE(problems(without, with, level, "proto2").empty()) << corps::to_string(level);
  }
}

TEST(SchemaCompatibility, OneofAddedAndRemoved) {
  expect_rule("message M { int32 a = 1; }", "message M { int32 a = 1; oneof o { int32 b = 2; } }",
              SchemaChange::oneof_added);
  expect_rule("message M { oneof o { int32 a = 1; } }", "message M { int32 a = 1; }",
              SchemaChange::oneof_removed);
  // One existing field into a new oneof is fine.
  EXPECT_TRUE(problems("message M { int32 a = 1; }", "message M { oneof o { int32 a = 1; } }",
                       CompatibilityLevel::backward)
                  .empty());
}

TEST(SchemaCompatibility, OneofFieldAddedAndRemoved) {
  expect_rule("message M { oneof o { int32 a = 1; } }",
              "message M { oneof o { int32 a = 1; string b = 2; } }",
              SchemaChange::oneof_field_added);
  expect_rule("message M { oneof o { int32 a = 1; string b = 2; } }",
              "message M { oneof o { int32 a = 1; } }", SchemaChange::oneof_field_removed);
}

TEST(SchemaCompatibility, MultipleFieldsMovedToOneof) {
  expect_rule("message M { int32 a = 1; int32 b = 2; }",
              "message M { oneof o { int32 a = 1; int32 b = 2; } }",
              SchemaChange::multiple_fields_moved_to_oneof);
}

TEST(SchemaCompatibility, FieldMovedToExistingOneof) {
  expect_rule("message M { int32 a = 1; oneof o { int32 b = 2; } }",
              "message M { oneof o { int32 a = 1; int32 b = 2; } }",
              SchemaChange::field_moved_to_existing_oneof);
}

TEST(SchemaCompatibility, NoneAllowsAnything) {
  EXPECT_TRUE(problems("message M { int64 f = 1; } message Gone {}", "message M { string f = 1; }",
                       CompatibilityLevel::none)
                  .empty());
}

TEST(RegistrySchema, ReadsBase64FileDescriptorProtoAsPythonSendsIt) {
  google::protobuf::FileDescriptorProto proto;
  file_of("message M { string id = 1; }")->CopyTo(&proto);
  const std::string bytes = proto.SerializeAsString();
  std::string base64(4 * ((bytes.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()),
                  reinterpret_cast<const unsigned char*>(bytes.data()),
                  static_cast<int>(bytes.size()));
  const auto parsed = corps::detail::parse_protobuf_schema(base64, "ignored.proto");
  EXPECT_EQ(parsed.name(), "evolve.proto") << "a FileDescriptorProto names itself";
  EXPECT_EQ(parsed.message_type(0).name(), "M");
}

TEST(RegistrySchema, ASchemaThatDoesNotParseOrBuildIsATypedError) {
  auto error = corps_tests::error_of(
      [] { (void)corps::detail::parse_protobuf_schema("message {", "bad.proto"); });
  EXPECT_EQ(error.code(), corps::Errc::invalid_schema);
  EXPECT_EQ(error.stage(), corps::Stage::schema);
  EXPECT_NE(error.message().find("bad.proto"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("1:"), std::string::npos)
      << "line and column: " << error.message();

  error = corps_tests::error_of([] { (void)file_of("message M { Missing m = 1; }"); });
  EXPECT_EQ(error.code(), corps::Errc::invalid_schema);
  EXPECT_NE(error.message().find("Missing"), std::string::npos) << error.message();
}

}  // namespace
