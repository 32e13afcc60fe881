// The embedded registry's REST API without HTTP and without Kafka, its
// changes kept in memory: what the fuzzer (fuzz/registry_http_fuzzer.cpp)
// found, kept as tests.
#include "detail/registry_api.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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
