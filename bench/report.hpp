// The results as a reader compares them: corps/raw ratios, a markdown table
// on stdout, and the same in JSON (the schema is
// proto/corps_bench/results.proto).
#pragma once

#include <ostream>
#include <string>

#include "corps_bench/results.pb.h"

namespace corps::bench {

/// Names of the rows' clients.
inline constexpr const char* raw_client = "raw librdkafka";
inline constexpr const char* corps_client = "corps";
inline constexpr const char* codec_client = "codec only";

/// Adds a Ratio for every payload that has both a raw and a corps row.
void add_ratios(proto::Results& results);

/// Writes the setup, the tables and what their columns mean, in markdown.
void print_markdown(const proto::Results& results, std::ostream& out);

/// Writes `results` as JSON to `path`. Throws std::runtime_error if it cannot.
void write_json(const proto::Results& results, const std::string& path);

}  // namespace corps::bench
