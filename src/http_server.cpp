#include "corps/http_server.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "corps/error.hpp"
#include "corps/logging.hpp"

namespace corps {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// MHD decodes the path and the query before the handler sees them, which
// turns "a%2Fb" into two segments: it is told to leave them as sent, and
// split_path decodes each segment after splitting.
size_t leave_escaped(void*, MHD_Connection*, char* text) {
  return std::strlen(text);
}

void log_mhd(void*, const char* format, va_list arguments) {
  char line[512];
  std::vsnprintf(line, sizeof line, format, arguments);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  logger()->debug("http: {}", text);
}

// A request as it arrives: refused at once, or its body gathered within
// the limit.
struct Pending {
  HttpRequest request;
  int refusal = 0;  // 0: none
  std::string why;
};

MHD_Result collect(void* into, MHD_ValueKind, const char* key, const char* value) {
  auto& map = *static_cast<std::map<std::string, std::string, std::less<>>*>(into);
  map.emplace(std::string(key), value != nullptr ? std::string(value) : std::string());
  return MHD_YES;
}

MHD_Result collect_header(void* into, MHD_ValueKind, const char* key, const char* value) {
  auto& map = *static_cast<std::map<std::string, std::string, std::less<>>*>(into);
  map.emplace(lower(key), value != nullptr ? std::string(value) : std::string());
  return MHD_YES;
}

std::string reason_of(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 500: return "Internal Server Error";
    default: return "HTTP " + std::to_string(status);
  }
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::vector<std::string> split_path(std::string_view raw_path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= raw_path.size()) {
    const std::size_t slash = raw_path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? raw_path.size() : slash;
    if (end > start) segments.push_back(percent_decode(raw_path.substr(start, end - start)));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

std::string_view HttpRequest::param(std::string_view name) const {
  const auto it = query.find(name);
  return it == query.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view HttpRequest::header(std::string_view name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  MHD_Daemon* daemon = nullptr;
  int port = -1;
  std::string url;

  // MHD calls this once the headers are in, once per piece of body, and
  // once the request is whole.
  static MHD_Result on_request(void* self_pointer, MHD_Connection* connection, const char* url,
                               const char* method, const char*, const char* upload_data,
                               size_t* upload_data_size, void** state) {
    auto& self = *static_cast<Impl*>(self_pointer);
    auto* pending = static_cast<Pending*>(*state);
    if (pending == nullptr) {
      pending = new Pending;
      *state = pending;
      auto& request = pending->request;
      request.method = method;
      request.raw_path = url;
      request.path = split_path(request.raw_path);
      std::map<std::string, std::string, std::less<>> raw_query;
      MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, collect, &raw_query);
      for (const auto& [key, value] : raw_query)
        request.query.emplace(percent_decode(key), percent_decode(value));
      MHD_get_connection_values(connection, MHD_HEADER_KIND, collect_header, &request.headers);
      // Refused before a byte of the body is read; MHD then discards the
      // rest and closes the connection.
      const auto encoding = lower(request.header("content-encoding"));
      if (!encoding.empty() && encoding != "identity") {
        return self.refuse(connection, 415,
                           "request bodies are not taken compressed (Content-Encoding: " +
                               std::string(request.header("content-encoding")) + ")");
      }
      const auto length = request.header("content-length");
      if (!length.empty()) {
        const auto declared = std::strtoull(std::string(length).c_str(), nullptr, 10);
        if (declared > self.options.limits.max_body_bytes) return self.too_large(connection);
      }
      return MHD_YES;
    }
    if (*upload_data_size > 0) {
      // A body without a declared length may still grow past the limit:
      // what comes past it is dropped as it arrives, and refused at the end.
      if (pending->refusal == 0) {
        if (pending->request.body.size() + *upload_data_size >
            self.options.limits.max_body_bytes) {
          pending->refusal = 413;
          pending->request.body = std::string();
        } else {
          pending->request.body.append(upload_data, *upload_data_size);
        }
      }
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (pending->refusal == 413) return self.too_large(connection);
    HttpResponse response;
    try {
      response = self.handler(pending->request);
    } catch (const std::exception& e) {
      logger()->warn("{}: {} {}: {}", self.options.name, pending->request.method,
                     pending->request.raw_path, e.what());
      response = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
    }
    return self.send(connection, response);
  }

  static void on_completed(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
    delete static_cast<Pending*>(*state);
    *state = nullptr;
  }

  MHD_Result too_large(MHD_Connection* connection) {
    return refuse(connection, 413,
                  "the request body is larger than " +
                      std::to_string(options.limits.max_body_bytes) + " bytes");
  }

  MHD_Result refuse(MHD_Connection* connection, int status, const std::string& why) {
    return send(connection,
                HttpResponse{status, "text/plain; charset=utf-8",
                             reason_of(status) + ": " + why + "\n", {}});
  }

  MHD_Result send(MHD_Connection* connection, const HttpResponse& response) {
    MHD_Response* out = MHD_create_response_from_buffer(
        response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
    if (out == nullptr) return MHD_NO;
    MHD_add_response_header(out, "Content-Type", response.content_type.c_str());
    MHD_add_response_header(out, "X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : options.headers)
      MHD_add_response_header(out, name.c_str(), value.c_str());
    for (const auto& [name, value] : response.headers)
      MHD_add_response_header(out, name.c_str(), value.c_str());
    const MHD_Result queued =
        MHD_queue_response(connection, static_cast<unsigned>(response.status), out);
    MHD_destroy_response(out);
    return queued;
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  const auto& opts = impl_->options;
  const auto cannot = [&](const std::string& why) {
    return Exception(Error(Errc::invalid_argument, Stage::config,
                           opts.name + " cannot listen on " + opts.host + ":" +
                               std::to_string(opts.port) + " (" + why + ")"));
  };
  if (opts.port < 0 || opts.port > 65535) throw cannot("not a port");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(opts.host.c_str(), std::to_string(opts.port).c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    throw cannot("not an address of this machine");
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> address(found, &freeaddrinfo);
  const unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                         MHD_USE_POLL | MHD_USE_ERROR_LOG |
                         (address->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  // Only SO_REUSEADDR (MHD's default): SO_REUSEPORT would let a second
  // server bind a port in use and take half its connections.
  impl_->daemon = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Impl::on_request, impl_.get(),  //
      MHD_OPTION_SOCK_ADDR, address->ai_addr,                      //
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(opts.limits.max_head_bytes),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(opts.limits.idle_timeout.count()),
      MHD_OPTION_CONNECTION_LIMIT, opts.limits.max_connections,  //
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, opts.limits.max_connections_per_address,
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, nullptr,  //
      MHD_OPTION_UNESCAPE_CALLBACK, &leave_escaped, nullptr,      //
      MHD_OPTION_EXTERNAL_LOGGER, &log_mhd, nullptr,              //
      MHD_OPTION_END);
  if (impl_->daemon == nullptr) throw cannot("in use, or not an address of this machine");
  const MHD_DaemonInfo* info = MHD_get_daemon_info(impl_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  impl_->port = info != nullptr ? info->port : opts.port;
  const bool v6 = opts.host.find(':') != std::string::npos;
  impl_->url =
      "http://" + (v6 ? "[" + opts.host + "]" : opts.host) + ":" + std::to_string(impl_->port);
}

HttpServer::~HttpServer() {
  if (impl_ && impl_->daemon != nullptr) MHD_stop_daemon(impl_->daemon);
}

HttpServer::HttpServer(HttpServer&&) noexcept = default;
HttpServer& HttpServer::operator=(HttpServer&& other) noexcept {
  if (this != &other) {
    if (impl_ && impl_->daemon != nullptr) MHD_stop_daemon(impl_->daemon);
    impl_ = std::move(other.impl_);
  }
  return *this;
}

int HttpServer::port() const noexcept {
  return impl_->port;
}

const std::string& HttpServer::url() const noexcept {
  return impl_->url;
}

}  // namespace corps
