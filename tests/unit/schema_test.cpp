// SchemaSet names .proto files as protoc does: a path on disk under an -I
// directory by its path relative to it, and a path that is not on disk as a
// name to look for in the -I directories.
#include "corps/schema.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "corps/error.hpp"

namespace {

namespace fs = std::filesystem;

class SchemaFiles : public ::testing::Test {
 protected:
  SchemaFiles()
      : root_(fs::temp_directory_path() / ("corps-schema-" + std::to_string(::getpid()))),
        before_(fs::current_path()) {
    fs::create_directories(root_ / "proto/shop");
    fs::create_directories(root_ / "elsewhere/deeper");
    std::ofstream(root_ / "proto/shop/common.proto") << "syntax = \"proto3\";\n"
                                                        "package schematest;\n"
                                                        "message Money { int64 cents = 1; }\n";
    std::ofstream(root_ / "proto/shop/order.proto")
        << "syntax = \"proto3\";\n"
           "package schematest;\n"
           "import \"corps/metadata.proto\";\n"
           "import \"shop/common.proto\";\n"
           "message Order { string item = 1; Money price = 2;\n"
           "  corps.proto.MessageData metadata = 15; }\n";
    fs::current_path(root_ / "elsewhere/deeper");
  }
  ~SchemaFiles() override {
    fs::current_path(before_);
    fs::remove_all(root_);
  }

  static bool defines_order(corps::SchemaSet& schemas) {
    const auto pool = schemas.build();
    return pool->FindMessageTypeByName("schematest.Order") != nullptr;
  }

  fs::path root_;
  fs::path before_;
};

// protoc -I ../../proto shop/order.proto, run from a directory that has no shop/.
TEST_F(SchemaFiles, ANameNotOnDiskIsLookedForInTheIncludeDirectories) {
  corps::SchemaSet schemas;
  schemas.add_include_dir("../../proto");
  schemas.add_proto_file("shop/order.proto");
  EXPECT_TRUE(defines_order(schemas));
}

// protoc -I /abs/proto ../../proto/shop/order.proto: the same file however
// the two paths are written.
TEST_F(SchemaFiles, APathUnderAnIncludeDirectoryIsNamedRelativeToItHoweverEitherIsWritten) {
  corps::SchemaSet schemas;
  schemas.add_include_dir(root_ / "proto");
  schemas.add_proto_file("../../proto/shop/order.proto");
  EXPECT_TRUE(defines_order(schemas));
  const auto types = schemas.message_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "schematest.Order"), types.end());
}

TEST_F(SchemaFiles, AFileFoundNowhereIsAConfigErrorNamingIt) {
  corps::SchemaSet schemas;
  schemas.add_include_dir("../../proto");
  schemas.add_proto_file("shop/missing.proto");
  try {
    (void)schemas.build();
    FAIL() << "a missing file built";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(std::string(e.what()).find("shop/missing.proto"), std::string::npos) << e.what();
  }
}

// .proto text nested thousands deep crashed protobuf's parser, which has no
// limit: such a file is refused by name, the process goes on. Imports too.
TEST_F(SchemaFiles, AFileNestedTooDeepIsRefusedNamingTheLimitNotACrash) {
  std::string deep = "syntax = \"proto3\";\npackage schematest;\n";
  for (int i = 0; i < 20'000; ++i) deep += "message M {\n";
  for (int i = 0; i < 20'000; ++i) deep += "}\n";
  std::ofstream(root_ / "proto/shop/deep.proto") << deep;
  std::ofstream(root_ / "proto/shop/imports_deep.proto")
      << "syntax = \"proto3\";\nimport \"shop/deep.proto\";\n";
  for (const char* file : {"shop/deep.proto", "shop/imports_deep.proto"}) {
    corps::SchemaSet schemas;
    schemas.add_include_dir("../../proto");
    schemas.add_proto_file(file);
    try {
      (void)schemas.build();
      FAIL() << file << " built";
    } catch (const corps::Exception& e) {
      EXPECT_EQ(e.error().stage(), corps::Stage::config);
      EXPECT_NE(std::string(e.what()).find("more than 100 levels deep (at line 103)"),
                std::string::npos)
          << e.what();
    }
  }
}

// A descriptor set is binary, parsed by protobuf with its limit of 100
// levels: one nested 20,000 deep is refused too.
TEST_F(SchemaFiles, ADescriptorSetNestedTooDeepIsRefusedNotACrash) {
  // FileDescriptorSet { file { name: "d.proto" message_type { name: "M"
  // nested_type { ... } } } }, written from the inside out.
  std::string message = std::string("\x0a\x01M", 3);  // DescriptorProto.name = "M"
  const auto length_delimited = [](char tag, const std::string& body) {
    std::string out(1, tag);
    for (std::size_t n = body.size(); ; n >>= 7) {
      out += static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      if (n <= 0x7f) break;
    }
    return out + body;
  };
  for (int i = 0; i < 20'000; ++i) message = std::string("\x0a\x01M", 3) + length_delimited('\x1a', message);
  const std::string file = length_delimited('\x0a', "d.proto") + length_delimited('\x22', message);
  std::ofstream(root_ / "deep.desc", std::ios::binary) << length_delimited('\x0a', file);
  corps::SchemaSet schemas;
  try {
    schemas.add_descriptor_set(root_ / "deep.desc");
    (void)schemas.build();
    FAIL() << "a descriptor set nested 20,000 deep was taken";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(std::string(e.what()).find("deep.desc"), std::string::npos) << e.what();
  }
}

}  // namespace
