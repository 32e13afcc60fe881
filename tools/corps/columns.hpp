// Tables printed as kafka-consumer-groups prints them: each column as wide
// as its widest cell, two spaces between, no trailing blanks.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace corps::cli {

/// Prints `rows` (the heading first) aligned in columns, one line each.
void print_columns(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

}  // namespace corps::cli
