#include "detail/http_listener.hpp"

#include <chrono>

#include "corps/error.hpp"

namespace corps::detail {

HttpListener::HttpListener(httplib::Server& server, const std::string& host, int port, Stage stage,
                           const std::string& what)
    : server_(server) {
  // httplib's default adds SO_REUSEPORT, which lets a second server bind a
  // port in use and take half its connections: only SO_REUSEADDR here, so
  // a port in use is refused.
  server_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  port_ =
      port == 0 ? server_.bind_to_any_port(host) : (server_.bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    throw Exception(Error(Errc::invalid_argument, stage,
                          what + " cannot listen on " + host + ":" + std::to_string(port) +
                              " (in use, or not an address of this machine)"));
  }
  url_ = "http://" + host + ":" + std::to_string(port_);
  listener_ = std::thread([this] {
    server_.listen_after_bind();
    listening_ended_ = true;
  });
  // Until the server runs, stop() is lost on it and the destructor would
  // wait for a listener that never ends.
  while (!server_.is_running() && !listening_ended_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

HttpListener::~HttpListener() {
  server_.stop();
  if (listener_.joinable()) listener_.join();
}

}  // namespace corps::detail
