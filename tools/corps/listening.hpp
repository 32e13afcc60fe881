// Whether anything listens at a bootstrap list, asked once over TCP before a
// command makes its Kafka clients: a refused connection at every address is
// final, and said in one line at once instead of after --timeout and
// librdkafka's retries.
#pragma once

#include <chrono>
#include <string_view>

namespace corps::cli {

/// Throws corps::Exception (Errc::broker_unreachable, Stage::connect) if
/// every address of every entry of `bootstrap` ("host:port,...", each
/// perhaps "PROTOCOL://host:port") refuses a TCP connection within
/// `budget`. An address that connects, does not answer in time, or a name
/// that does not resolve leaves the verdict to the Kafka client: those may
/// be slow, not absent.
void refuse_if_nothing_listens(std::string_view bootstrap,
                               std::chrono::milliseconds budget = std::chrono::seconds(1));

}  // namespace corps::cli
