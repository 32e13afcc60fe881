// .proto text is checked before protobuf's parser reads it: that parser has
// no limit on nesting, and a schema nested 20,000 deep crashed the registry.
#include "detail/proto_text_limits.hpp"

#include <gtest/gtest.h>

#include "corps/error.hpp"
#include "detail/registry_schema.hpp"

namespace {

std::string nested(int depth, const std::string& inside = "int32 x = 1;") {
  std::string text = "syntax = \"proto3\";\n";
  for (int i = 0; i < depth; ++i) text += "message M" + std::to_string(i) + " { ";
  text += inside;
  for (int i = 0; i < depth; ++i) text += " }";
  return text;
}

TEST(ProtoTextLimits, NestingUpToTheLimitIsTakenAndOneMoreIsRefused) {
  EXPECT_FALSE(corps::detail::proto_text_refusal(nested(100)).has_value());
  const auto refused = corps::detail::proto_text_refusal(nested(101));
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->find("more than 100 levels deep (at line 2)"), std::string::npos) << *refused;
}

TEST(ProtoTextLimits, BracesInCommentsAndStringsDoNotCount) {
  const std::string braces(500, '{');
  EXPECT_FALSE(corps::detail::proto_text_refusal(
                   nested(3, "// " + braces + "\n/* " + braces + " */ string s = 1 [json_name = \"" +
                                 braces + "\"];"))
                   .has_value());
}

TEST(ProtoTextLimits, TextLargerThanTheLimitIsRefused) {
  const auto refused =
      corps::detail::proto_text_refusal(std::string(corps::detail::max_proto_text_bytes + 1, ' '));
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->find("at most 4194304"), std::string::npos) << *refused;
}

// What the registry and the registry client parse: a typed schema error,
// not a crash.
TEST(ProtoTextLimits, ARegistrySchemaNestedTooDeepIsAnInvalidSchemaError) {
  try {
    (void)corps::detail::parse_protobuf_schema(nested(20'000), "deep.proto");
    FAIL() << "parsed";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().code(), corps::Errc::invalid_schema);
    EXPECT_EQ(e.error().stage(), corps::Stage::schema);
    EXPECT_NE(std::string(e.what()).find("'deep.proto' nests blocks more than 100 levels deep"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
