#include "corps/dead_letter.hpp"

#include <chrono>

namespace corps {

proto::DeadLetter make_dead_letter(const Record& record, const Error& error, int attempts,
                                   std::string_view consumer_group, std::string_view service) {
  proto::DeadLetter letter;
  letter.set_topic(record.topic());
  letter.set_partition(record.partition());
  letter.set_offset(record.offset());
  if (const auto key = record.key()) {
    letter.set_key(std::string(*key));
    letter.set_has_key(true);
  }
  for (const auto& header : record.headers()) {
    auto* kept = letter.add_headers();
    kept->set_name(header.name);
    if (header.value) {
      kept->set_value(*header.value);
    } else {
      kept->set_null_value(true);
    }
  }
  if (const auto value = record.value()) {
    letter.set_value(std::string(*value));
  } else {
    letter.set_null_value(true);
  }
  letter.set_stage(std::string(to_string(error.stage())));
  letter.set_code(std::string(to_string(error.code())));
  letter.set_error(error.to_string());
  letter.set_attempts(attempts);
  letter.set_failed_at(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  letter.set_consumer_group(std::string(consumer_group));
  letter.set_service(std::string(service));
  return letter;
}

}  // namespace corps
