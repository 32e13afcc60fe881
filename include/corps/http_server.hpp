// HttpServer: a small HTTP/1.1 server with limits on everything a client
// controls, serving on threads of its own. corps's own endpoints (the
// embedded schema registry, the metrics server) and the pipeline's page
// serve with it.
//
// What a client cannot make it do: hold more than `max_head_bytes` of
// request line and headers (431, or 414 for the line), hold a body past
// `max_body_bytes` (413, the rest discarded as it arrives, never kept),
// inflate anything (a body with a Content-Encoding other than identity is
// refused with 415 before it is read), keep a connection it does not use
// (closed after `idle_timeout` of silence), open more than
// `max_connections` at once (`max_connections_per_address` from one
// address), or route by a decoded '/': a path is split at its slashes
// first, then each segment is decoded, so "/subjects/a%2Fb/versions" names
// subject "a/b".
//
// It listens on 127.0.0.1 by default, without TLS and without
// authentication: see docs/security.md before exposing it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corps {

/// One request, whole: its body has arrived and is within the limits.
struct HttpRequest {
  /// GET, POST, PUT, ...
  std::string method;
  /// The path as sent, still percent-encoded.
  std::string raw_path;
  /// The path's segments, each decoded on its own after the path was split
  /// at its slashes: "/subjects/a%2Fb/versions" is {"subjects", "a/b",
  /// "versions"}; "/" is none.
  std::vector<std::string> path;
  /// Query parameters, decoded.
  std::map<std::string, std::string, std::less<>> query;
  /// Headers, names in lower case.
  std::map<std::string, std::string, std::less<>> headers;
  /// The body, at most HttpLimits::max_body_bytes.
  std::string body;

  /// A query parameter's value, or "" if absent.
  [[nodiscard]] std::string_view param(std::string_view name) const;
  /// A header's value (`name` in lower case), or "" if absent.
  [[nodiscard]] std::string_view header(std::string_view name) const;
};

/// What the handler answers.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  /// More headers, e.g. Cache-Control.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// What a client may make the server hold, and for how long.
struct HttpLimits {
  /// The largest body; larger ones are answered 413.
  std::size_t max_body_bytes = std::size_t{1} << 20;
  /// The most bytes of request line and headers.
  std::size_t max_head_bytes = std::size_t{32} << 10;
  /// A connection silent this long is closed.
  std::chrono::seconds idle_timeout{10};
  /// Connections at once, from anywhere and from one address.
  unsigned max_connections = 64;
  unsigned max_connections_per_address = 16;
};

/// Where and how to serve.
struct HttpServerOptions {
  /// The address to listen on; port 0 picks a free one.
  std::string host = "127.0.0.1";
  int port = 0;
  HttpLimits limits;
  /// Headers every response carries besides the handler's (a
  /// Content-Security-Policy, say). X-Content-Type-Options: nosniff is
  /// always there.
  std::vector<std::pair<std::string, std::string>> headers;
  /// What the server is, for errors and logs: "the schema registry".
  std::string name = "the HTTP server";
};

/// Answers a request. Called on the server's threads, several at once; an
/// exception it throws is answered 500.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

/// Serves until destroyed. Not copyable; movable.
class HttpServer {
 public:
  /// Listens and serves. Throws corps::Exception (Stage::config) if it
  /// cannot listen (a port in use, an address not of this machine).
  HttpServer(HttpServerOptions options, HttpHandler handler);
  /// Stops listening and waits for the requests being served.
  ~HttpServer();
  HttpServer(HttpServer&&) noexcept;
  HttpServer& operator=(HttpServer&&) noexcept;

  /// The port it listens on.
  [[nodiscard]] int port() const noexcept;
  /// "http://host:port".
  [[nodiscard]] const std::string& url() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Decodes %XX escapes (and nothing else: '+' stays '+'). A malformed
/// escape is kept as it is.
[[nodiscard]] std::string percent_decode(std::string_view text);

/// Splits a path at its slashes and decodes each segment; empty segments
/// (a trailing or doubled slash) are dropped.
[[nodiscard]] std::vector<std::string> split_path(std::string_view raw_path);

}  // namespace corps
