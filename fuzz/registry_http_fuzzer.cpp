// libFuzzer target: the embedded schema registry's REST API, fed requests
// as its HTTP server hands them over (detail::RegistryApi::serve), its
// changes kept in memory, so one input is a sequence of requests against
// one registry: register, then look up, check compatibility, change levels.
//
// The input: up to eight requests, separated by a line "--". Each is
//
//   METHOD SP RAW-PATH[?QUERY] LF
//   (NAME: VALUE LF)*
//   LF
//   BODY
//
// made into an HttpRequest as the server makes one: the path split at its
// slashes before each segment is percent-decoded, the query decoded, header
// names lower-cased, a body past HttpLimits::max_body_bytes never handed
// over (413) and a body with a Content-Encoding other than identity neither
// (415): the server refuses both before the registry sees them.
//
// The contract checked on every request, beyond "no crash, no sanitizer
// report, no hang": an answer, never an exception; a status the REST API
// documents (200, 400, 404, 405, 409, 422), never 500 (nothing in memory
// can fail the way a broker can); a JSON body, and for an error an object
// with an integer error_code and a message. A breach prints the request
// and the answer and aborts; libFuzzer saves the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "corps/http_server.hpp"
#include "detail/registry_api.hpp"

namespace {

using corps::HttpRequest;
using corps::HttpResponse;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// One request of the input, or nullopt where the server would not hand it
// to the registry at all.
std::optional<HttpRequest> request_of(std::string_view text) {
  HttpRequest request;
  const auto line_end = text.find('\n');
  const std::string_view line = text.substr(0, line_end);
  text = line_end == std::string_view::npos ? std::string_view() : text.substr(line_end + 1);
  const auto space = line.find(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  request.method = std::string(line.substr(0, space));
  const std::string_view target = trimmed(line.substr(space + 1));
  const auto question = target.find('?');
  request.raw_path = std::string(target.substr(0, question));
  if (request.raw_path.empty() || request.raw_path.front() != '/') return std::nullopt;
  request.path = corps::split_path(request.raw_path);
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const auto equals = pair.find('=');
      request.query[corps::percent_decode(pair.substr(0, equals))] =
          equals == std::string_view::npos ? std::string()
                                           : corps::percent_decode(pair.substr(equals + 1));
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
  }
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view header = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (trimmed(header).empty()) break;
    const auto colon = header.find(':');
    if (colon == std::string_view::npos) return std::nullopt;  // 400 from the server
    request.headers[lower(trimmed(header.substr(0, colon)))] =
        std::string(trimmed(header.substr(colon + 1)));
  }
  if (const auto encoding = lower(request.header("content-encoding"));
      !encoding.empty() && encoding != "identity") {
    return std::nullopt;  // 415
  }
  if (text.size() > corps::HttpLimits{}.max_body_bytes) return std::nullopt;  // 413
  request.body = std::string(text);
  return request;
}

[[noreturn]] void breach(const HttpRequest& request, const HttpResponse& response,
                         const std::string& what) {
  std::fprintf(stderr, "registry_http_fuzzer: %s\n  %s %s\n  answered %d: %s\n", what.c_str(),
               request.method.c_str(), request.raw_path.c_str(), response.status,
               response.body.substr(0, 2000).c_str());
  std::abort();
}

void check(const HttpRequest& request, const HttpResponse& response) {
  static const std::set<int> documented{200, 400, 404, 405, 409, 422};
  if (documented.count(response.status) == 0) {
    breach(request, response, "a status the REST API does not document");
  }
  const auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) breach(request, response, "an answer that is not JSON");
  if (response.status != 200 && (!body.is_object() || !body.contains("error_code") ||
                                 !body["error_code"].is_number_integer() ||
                                 !body.contains("message") || !body["message"].is_string())) {
    breach(request, response, "an error without an integer error_code and a message");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  corps::detail::MemorySchemasLog log;
  corps::detail::RegistryApi api(corps::CompatibilityLevel::backward, log);
  for (int n = 0; n < 8 && !input.empty(); ++n) {
    const auto separator = input.find("\n--\n");
    const std::string_view text = input.substr(0, separator);
    input = separator == std::string_view::npos ? std::string_view() : input.substr(separator + 4);
    const auto request = request_of(text);
    if (!request) continue;
    HttpResponse response;
    try {
      response = api.serve(*request);
    } catch (const std::exception& e) {
      breach(*request, response, std::string("an exception escaped: ") + e.what());
    }
    check(*request, response);
  }
  return 0;
}
