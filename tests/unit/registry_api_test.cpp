// The embedded registry's REST API without HTTP and without Kafka, its
// changes kept in memory: what the fuzzer (fuzz/registry_http_fuzzer.cpp)
// found, kept as tests.
#include "detail/registry_api.hpp"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <vector>

namespace {

corps::HttpRequest request(std::string method, const std::string& raw_path, std::string body = {}) {
  corps::HttpRequest r;
  r.method = std::move(method);
  r.raw_path = raw_path;
  r.path = corps::split_path(raw_path);
  r.body = std::move(body);
  return r;
}

// A subject whose name is not UTF-8 (%AC%9A decodes to bytes no JSON string
// may hold) went into the error's JSON, whose writing then threw: the
// request escaped the registry (the server answered 500) instead of being
// refused.
TEST(RegistryApi, ASubjectThatIsNotUtf8IsRefusedInJson) {
  corps::detail::MemorySchemasLog log;
  corps::detail::RegistryApi api(corps::CompatibilityLevel::backward, log);
  const std::string schema =
      R"({"schema": "syntax = \"proto3\"; message M { int32 n = 1; }", "schemaType": "PROTOBUF"})";
  for (const auto& r : {request("POST", "/subjects/%AC%9A/versions", schema),
                        request("GET", "/subjects/%AC%9A/versions/latest"),
                        request("GET", "/subjects/a/versions/%FF")}) {
    SCOPED_TRACE(r.raw_path);
    corps::HttpResponse answer;
    ASSERT_NO_THROW(answer = api.serve(r));
    EXPECT_EQ(answer.status, 400) << answer.body;
    const auto body = nlohmann::json::parse(answer.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << answer.body;
    EXPECT_NE(body.value("message", "").find("not UTF-8"), std::string::npos) << answer.body;
  }
  EXPECT_EQ(api.serve(request("GET", "/subjects")).body, "[]") << "nothing registered";
}

}  // namespace

namespace {

using nlohmann::json;

std::string protobuf_body(const std::string& schema, json references = json::array()) {
  return json{{"schema", schema}, {"schemaType", "PROTOBUF"}, {"references", references}}.dump();
}

// One request's status and JSON body.
struct Answer {
  int status = 0;
  json body;
};

class Registry {
 public:
  explicit Registry(corps::detail::SchemasLog& log)
      : api_(corps::CompatibilityLevel::backward, log) {}
  Answer call(std::string method, const std::string& raw_path, std::string body = {}) {
    auto r = request(std::move(method), raw_path, std::move(body));
    // split_path leaves the query out; the server sets the parameters.
    if (const auto q = raw_path.find('?'); q != std::string::npos) {
      r.path = corps::split_path(raw_path.substr(0, q));
      const auto query = raw_path.substr(q + 1);
      const auto eq = query.find('=');
      r.query[query.substr(0, eq)] = query.substr(eq + 1);
    }
    const auto answer = api_.serve(r);
    return {answer.status, json::parse(answer.body)};
  }

 private:
  corps::detail::RegistryApi api_;
};

// A log that keeps every record, as the _schemas topic does, and gives each
// store that reads it the records it has not applied yet: a second registry
// on it is one restarted on the same topic.
class KeptSchemasLog : public corps::detail::SchemasLog {
 public:
  void catch_up(corps::detail::SchemaStore& store) override {
    auto& read = read_[&store];
    for (; read < records_.size(); ++read) store.apply(records_[read]);
  }
  void append(corps::detail::SchemaStore& store,
              const corps::detail::SchemasRecord& record) override {
    records_.push_back(record);
    catch_up(store);
  }
  [[nodiscard]] std::string name() const override { return "kept"; }

 private:
  std::vector<corps::detail::SchemasRecord> records_;
  std::map<const corps::detail::SchemaStore*, std::size_t> read_;
};

const std::string order_v1 = "syntax = \"proto3\"; package shop; message Order { int32 id = 1; }";
const std::string order_v2 =
    "syntax = \"proto3\"; package shop; message Order { int32 id = 1; string note = 2; }";

// Confluent's registry compares protobuf schemas in canonical form: the same
// schema written with other spacing, line breaks or comments is the schema
// already registered (its id, its version), not a new one.
TEST(RegistryApi, TheSameSchemaInOtherSpacingOrWithCommentsKeepsItsIdAndVersion) {
  KeptSchemasLog log;
  Registry registry(log);
  const auto first = registry.call("POST", "/subjects/orders/versions", protobuf_body(order_v1));
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string respaced =
      "// the shop's order\nsyntax = \"proto3\";\n\npackage shop;\n\nmessage Order {\n"
      "  int32 id = 1;  // its number\n}\n";
  const auto again = registry.call("POST", "/subjects/orders/versions", protobuf_body(respaced));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body["id"], first.body["id"]);
  EXPECT_EQ(registry.call("GET", "/subjects/orders/versions").body, json::array({1}));

  const auto found = registry.call("POST", "/subjects/orders", protobuf_body(respaced));
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.body["version"], 1);
  EXPECT_EQ(found.body["schema"], order_v1) << "the schema as first registered";

  const auto elsewhere =
      registry.call("POST", "/subjects/orders-copy/versions", protobuf_body(respaced));
  EXPECT_EQ(elsewhere.body["id"], first.body["id"]) << "one schema, one id, in any subject";

  const auto changed = registry.call("POST", "/subjects/orders/versions", protobuf_body(order_v2));
  EXPECT_NE(changed.body["id"], first.body["id"]) << "a new field is a new schema";
}

// Soft delete hides a version and keeps its id readable (records written
// with it still decode); permanent delete, only after a soft one, removes
// it. Each refusal has Confluent's error code.
TEST(RegistryApi, DeletesSoftlyThenPermanentlyAsConfluentsRegistryDoes) {
  KeptSchemasLog log;
  Registry registry(log);
  const auto v1 = registry.call("POST", "/subjects/orders/versions", protobuf_body(order_v1));
  const auto v2 = registry.call("POST", "/subjects/orders/versions", protobuf_body(order_v2));
  ASSERT_EQ(v2.status, 200) << v2.body;
  const std::string id1 = std::to_string(v1.body["id"].get<int>());

  auto permanent_first = registry.call("DELETE", "/subjects/orders/versions/1?permanent=true");
  EXPECT_EQ(permanent_first.status, 404);
  EXPECT_EQ(permanent_first.body["error_code"], 40407) << permanent_first.body;

  auto soft = registry.call("DELETE", "/subjects/orders/versions/1");
  ASSERT_EQ(soft.status, 200) << soft.body;
  EXPECT_EQ(soft.body, 1);
  EXPECT_EQ(registry.call("GET", "/subjects/orders/versions").body, json::array({2}));
  EXPECT_EQ(registry.call("GET", "/subjects/orders/versions?deleted=true").body,
            json::array({1, 2}));
  EXPECT_EQ(registry.call("GET", "/subjects/orders/versions/1").body["error_code"], 40402);
  EXPECT_EQ(registry.call("GET", "/subjects/orders/versions/1?deleted=true").status, 200);
  EXPECT_EQ(registry.call("GET", "/schemas/ids/" + id1).status, 200)
      << "a softly deleted version's schema still decodes its records";
  EXPECT_EQ(registry.call("DELETE", "/subjects/orders/versions/1").body["error_code"], 40406);

  auto hard = registry.call("DELETE", "/subjects/orders/versions/1?permanent=true");
  ASSERT_EQ(hard.status, 200) << hard.body;
  EXPECT_EQ(registry.call("GET", "/subjects/orders/versions?deleted=true").body, json::array({2}));
  EXPECT_EQ(registry.call("GET", "/schemas/ids/" + id1).body["error_code"], 40403);

  EXPECT_EQ(registry.call("DELETE", "/subjects/orders?permanent=true").body["error_code"], 40405);
  auto subject = registry.call("DELETE", "/subjects/orders");
  ASSERT_EQ(subject.status, 200) << subject.body;
  EXPECT_EQ(subject.body, json::array({2}));
  EXPECT_EQ(registry.call("GET", "/subjects").body, json::array());
  EXPECT_EQ(registry.call("GET", "/subjects?deleted=true").body, json::array({"orders"}));
  EXPECT_EQ(registry.call("GET", "/subjects/orders/versions").body["error_code"], 40401);
  EXPECT_EQ(registry.call("DELETE", "/subjects/orders").body["error_code"], 40404);

  // Registered again, the schema keeps its id and takes the next version:
  // numbers are never given twice.
  const auto back = registry.call("POST", "/subjects/orders/versions", protobuf_body(order_v2));
  EXPECT_EQ(back.body["id"], v2.body["id"]);
  EXPECT_EQ(registry.call("GET", "/subjects/orders/versions/latest").body["version"], 3);

  // A registry that reads the same log afresh (restarted) knows all of it.
  Registry restarted(log);
  EXPECT_EQ(restarted.call("GET", "/subjects/orders/versions?deleted=true").body,
            json::array({2, 3}));
  EXPECT_EQ(restarted.call("GET", "/subjects/orders/versions").body, json::array({3}));
  EXPECT_EQ(restarted.call("GET", "/schemas/ids/" + id1).body["error_code"], 40403);
  const auto fresh =
      restarted.call("POST", "/subjects/other/versions",
                     protobuf_body("syntax = \"proto3\"; message Other { int32 n = 1; }"));
  EXPECT_GT(fresh.body["id"].get<int>(), v2.body["id"].get<int>()) << "ids are never reused";
}

// A version another schema imports cannot go: its readers need it.
TEST(RegistryApi, RefusesToDeleteAVersionAnotherSchemaReferences) {
  KeptSchemasLog log;
  Registry registry(log);
  ASSERT_EQ(registry
                .call("POST", "/subjects/money.proto/versions",
                      protobuf_body("syntax = \"proto3\"; message Money { int64 cents = 1; }"))
                .status,
            200);
  const auto user = registry.call(
      "POST", "/subjects/prices/versions",
      protobuf_body(
          "syntax = \"proto3\"; import \"money.proto\"; message Price { Money m = 1; }",
          json::array({{{"name", "money.proto"}, {"subject", "money.proto"}, {"version", 1}}})));
  ASSERT_EQ(user.status, 200) << user.body;
  for (const auto* path : {"/subjects/money.proto/versions/1", "/subjects/money.proto"}) {
    const auto refused = registry.call("DELETE", path);
    EXPECT_EQ(refused.status, 422) << path;
    EXPECT_EQ(refused.body["error_code"], 42206) << refused.body;
  }
  EXPECT_EQ(registry.call("GET", "/subjects/money.proto/versions").body, json::array({1}));
}

// A .proto without a syntax line is proto2, as protoc reads it: the
// registry takes it without protobuf's own warning on stderr (it printed
// "[libprotobuf WARNING ...] No syntax specified"), and its errors keep the
// text's own line numbers.
TEST(RegistryApi, ASchemaWithoutASyntaxLineIsProto2AndPrintsNothing) {
  KeptSchemasLog log;
  Registry registry(log);
  testing::internal::CaptureStderr();
  const auto taken = registry.call("POST", "/subjects/p2/versions",
                                   protobuf_body("message M {\n  optional int32 n = 1;\n}\n"));
  const auto refused = registry.call("POST", "/subjects/bad/versions",
                                     protobuf_body("message M {\n  optional int32 n = ;\n}\n"));
  const std::string stderr_text = testing::internal::GetCapturedStderr();
  EXPECT_EQ(taken.status, 200) << taken.body;
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body["message"].get<std::string>().find("2:"), std::string::npos)
      << refused.body;
  EXPECT_EQ(stderr_text, "");
}

}  // namespace
