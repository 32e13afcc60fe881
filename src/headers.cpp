#include "corps/headers.hpp"

namespace corps {

const Header* find_header(const Headers& headers, std::string_view name) noexcept {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->name == name) return &*it;
  }
  return nullptr;
}

}  // namespace corps
