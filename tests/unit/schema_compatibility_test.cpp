// The protobuf compatibility rules the embedded registry applies, and the
// schema forms it reads (.proto text, base64 FileDescriptorProto).
#include "corps/schema_compatibility.hpp"

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "detail/registry_schema.hpp"
#include "support/expect.hpp"

namespace {

using corps::CompatibilityLevel;

std::shared_ptr<const google::protobuf::FileDescriptor> file_of(
    const std::string& body, const std::string& syntax = "proto3") {
  return corps::detail::build_protobuf_schema(
      {.schema = "syntax = \"" + syntax + "\";\npackage evolve;\n" + body}, "evolve.proto",
      [](const corps::SchemaReference&) -> corps::Schema {
        throw std::logic_error("no references");
      });
}

std::vector<std::string> problems(const std::string& older, const std::string& newer,
                                  CompatibilityLevel level, const std::string& syntax = "proto3") {
  return corps::compatibility_problems(*file_of(older, syntax), *file_of(newer, syntax), level);
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

TEST(SchemaCompatibility, ATypeTheWireCarriesDifferentlyIsRefusedEitherWay) {
  for (const auto level :
       {CompatibilityLevel::backward, CompatibilityLevel::forward, CompatibilityLevel::full}) {
    const auto found = problems("message M { sint32 f = 1; }", "message M { int32 f = 1; }", level);
    ASSERT_EQ(found.size(), 1U) << corps::to_string(level);
    EXPECT_EQ(found[0], "evolve.M: field 1 was sint32 'f' and is now int32 'f'");
  }
  const auto found =
      problems("message A {} message B {} message M { A f = 1; }",
               "message A {} message B {} message M { B f = 1; }", CompatibilityLevel::backward);
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0], "evolve.M: field 1 was evolve.A 'f' and is now evolve.B 'f'");
}

TEST(SchemaCompatibility, NewFieldsRenamesAndNewMessagesAreAllowed) {
  EXPECT_TRUE(problems("message M { string id = 1; }",
                       "message M { string key = 1; int64 cents = 2; } message N {}",
                       CompatibilityLevel::full)
                  .empty());
}

TEST(SchemaCompatibility, RemovedMessagesAndEnumValuesAreRefused) {
  auto found = problems("message M {} message Gone { message Inner {} }", "message M {}",
                        CompatibilityLevel::backward);
  EXPECT_EQ(found, (std::vector<std::string>{"message evolve.Gone was removed",
                                             "message evolve.Gone.Inner was removed"}));
  found = problems("enum E { A = 0; B = 1; } message M { E e = 1; }",
                   "enum E { A = 0; } message M { E e = 1; }", CompatibilityLevel::forward);
  EXPECT_EQ(found, (std::vector<std::string>{"enum evolve.E: value B = 1 was removed"}));
}

TEST(SchemaCompatibility, ARequiredFieldTheOtherSideDoesNotWriteDependsOnTheDirection) {
  const std::string without = "message M { optional string id = 1; }";
  const std::string with = "message M { optional string id = 1; required int64 cents = 2; }";
  // The new reader requires what old records lack: not backward.
  EXPECT_EQ(problems(without, with, CompatibilityLevel::backward, "proto2").size(), 1U);
  // Old readers never asked for it: forward.
  EXPECT_TRUE(problems(without, with, CompatibilityLevel::forward, "proto2").empty());
  EXPECT_EQ(problems(with, without, CompatibilityLevel::forward, "proto2").size(), 1U);
  EXPECT_EQ(problems(without, with, CompatibilityLevel::full, "proto2").size(), 1U);
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
