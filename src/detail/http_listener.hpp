// HttpListener: an httplib server bound and serving on a thread of its own,
// stopped and joined when the listener goes. What the embedded schema
// registry and the metrics server share.
#pragma once

#include <httplib.h>

#include <atomic>
#include <string>
#include <thread>

#include "corps/error.hpp"

namespace corps::detail {

class HttpListener {
 public:
  /// Binds `server` (whose routes are set) to host:port, port 0 picking a
  /// free one, and serves it until destroyed. Throws corps::Exception
  /// (`stage`) naming `what` if it cannot bind.
  HttpListener(httplib::Server& server, const std::string& host, int port, Stage stage,
               const std::string& what);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  /// The port bound.
  [[nodiscard]] int port() const noexcept { return port_; }
  /// http://host:port
  [[nodiscard]] const std::string& url() const noexcept { return url_; }

 private:
  httplib::Server& server_;
  int port_ = -1;
  std::string url_;
  std::atomic<bool> listening_ended_{false};
  std::thread listener_;
};

}  // namespace corps::detail
