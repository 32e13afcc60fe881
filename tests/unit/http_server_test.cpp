// corps::HttpServer keeps what a client sends within its limits, and routes
// by segments decoded after the path is split; the registry client keeps
// what a server answers within its own.
#include "corps/http_server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

#include "corps/error.hpp"
#include "corps/schema_registry.hpp"

namespace {

TEST(HttpPaths, ASlashEncodedInASegmentStaysInIt) {
  EXPECT_EQ(corps::split_path("/subjects/a%2Fversions"),
            (std::vector<std::string>{"subjects", "a/versions"}));
  EXPECT_EQ(corps::split_path("/subjects/x%2fy/versions/"),
            (std::vector<std::string>{"subjects", "x/y", "versions"}));
  EXPECT_EQ(corps::split_path("/"), std::vector<std::string>{});
  EXPECT_EQ(corps::split_path("//a//b"), (std::vector<std::string>{"a", "b"}));
}

TEST(HttpPaths, PercentDecodingKeepsWhatIsNotAnEscape) {
  EXPECT_EQ(corps::percent_decode("a%20b%zz%4"), "a b%zz%4");
  EXPECT_EQ(corps::percent_decode("a+b"), "a+b");
  EXPECT_EQ(corps::percent_decode("%00"), std::string(1, '\0'));
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    corps::HttpServerOptions options;
    options.limits.max_body_bytes = 1000;
    options.headers = {{"Content-Security-Policy", "default-src 'none'"}};
    server_.emplace(std::move(options), [this](const corps::HttpRequest& request) {
      ++handled_;
      if (request.path == std::vector<std::string>{"throw"}) throw std::runtime_error("boom");
      std::string said = request.method;
      for (const auto& segment : request.path) said += "|" + segment;
      said += "|" + std::string(request.param("q")) + "|" + std::string(request.header("x-tag")) +
              "|" + std::to_string(request.body.size());
      return corps::HttpResponse{200, "text/plain", said, {}};
    });
  }
  httplib::Client client() const {
    httplib::Client made("127.0.0.1", server_->port());
    made.set_decompress(false);
    return made;
  }

  std::atomic<int> handled_{0};
  std::optional<corps::HttpServer> server_;
};

TEST_F(HttpServerTest, ARequestReachesTheHandlerDecodedSegmentBySegment) {
  auto http = client();
  const auto answer = http.Post("/a%2Fb/c?q=%41%20z", {{"X-Tag", "t"}}, std::string(1000, 'b'),
                                "application/json");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "POST|a/b|c|A z|t|1000");
  EXPECT_EQ(answer->get_header_value("Content-Security-Policy"), "default-src 'none'");
  EXPECT_EQ(answer->get_header_value("X-Content-Type-Options"), "nosniff");
}

TEST_F(HttpServerTest, ABodyPastTheLimitIs413AndNeverHandled) {
  auto http = client();
  const auto answer = http.Post("/x", std::string(1001, 'b'), "application/json");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 413);
  EXPECT_NE(answer->body.find("larger than 1000 bytes"), std::string::npos) << answer->body;
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, ACompressedBodyIs415AndNeverInflated) {
  auto http = client();
  const auto answer =
      http.Post("/x", {{"Content-Encoding", "gzip"}}, std::string(10, 'b'), "application/json");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 415);
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, HeadersPastTheLimitAre431) {
  auto http = client();
  httplib::Headers headers;
  for (int i = 0; i < 1000; ++i) headers.emplace("X-H" + std::to_string(i), std::string(50, 'v'));
  const auto answer = http.Get("/x", headers);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 431);
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, AHandlerThatThrowsIs500AndTheServerGoesOn) {
  auto http = client();
  const auto failed = http.Get("/throw");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  const auto next = http.Get("/next");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(HttpServerTest, APortInUseIsRefusedNamingIt) {
  corps::HttpServerOptions options;
  options.port = server_->port();
  options.name = "the second server";
  try {
    corps::HttpServer second(options, [](const corps::HttpRequest&) { return corps::HttpResponse{}; });
    FAIL() << "two servers on one port";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(std::string(e.what()).find("the second server cannot listen on 127.0.0.1:" +
                                         std::to_string(server_->port())),
              std::string::npos)
        << e.what();
  }
}

// A registry, or something posing as one, cannot make the client hold more
// than max_response_bytes, nor inflate anything.
TEST(SchemaRegistryClientLimits, AnAnswerPastTheLimitOrCompressedIsATypedError) {
  corps::HttpServer registry({}, [](const corps::HttpRequest& request) {
    if (request.path == std::vector<std::string>{"schemas", "ids", "1"}) {
      return corps::HttpResponse{200, "application/json", std::string(3 << 20, ' '), {}};
    }
    return corps::HttpResponse{
        200, "application/json", "\x1f\x8b compressed", {{"Content-Encoding", "gzip"}}};
  });
  corps::SchemaRegistryOptions options;
  options.url = registry.url();
  options.max_response_bytes = std::size_t{1} << 20;
  corps::SchemaRegistryClient client(options);
  try {
    (void)client.schema_by_id(1);
    FAIL() << "a 3 MiB answer was read";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().code(), corps::Errc::too_large) << e.what();
    EXPECT_NE(std::string(e.what()).find("more than 1048576 bytes"), std::string::npos) << e.what();
  }
  try {
    (void)client.schema_by_id(2);
    FAIL() << "a compressed answer was read";
  } catch (const corps::Exception& e) {
    EXPECT_NE(std::string(e.what()).find("answered compressed (gzip)"), std::string::npos)
        << e.what();
  }
}

}  // namespace
