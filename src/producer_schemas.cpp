// Producer, the schema registry's part: before anything is sent, each
// channel bound with WireFormat::confluent gets its schema id (registered,
// once the subject's compatibility rules accept it, or looked up), and with
// it the prefix every record of the channel starts with.
#include "corps/confluent_framing.hpp"
#include "corps/producer.hpp"
#include "corps/schema_registry.hpp"
#include "detail/producer_impl.hpp"

namespace corps {

namespace {

[[noreturn]] void fail(Errc code, std::string message) {
  throw Exception(Error(code, Stage::schema, std::move(message)));
}

// The schema id of `binding`'s file under its subject.
std::int32_t schema_id_of(const ChannelBinding& binding, const SerializerOptions& options) {
  auto& client = *options.client;
  const auto& file = *binding.type()->file();
  const std::string subject =
      subject_name(options.subject_name_strategy, binding.channel(), binding.type()->full_name());
  const Schema schema = client.file_schema(file, options.auto_register);
  if (!options.auto_register) {
    const auto registered = client.find(subject, schema);
    if (!registered) {
      fail(Errc::schema_not_found, "channel '" + binding.channel() + "': subject '" + subject +
                                       "' has no version of " + file.name() + " (" +
                                       binding.type()->full_name() +
                                       "), and SerializerOptions::auto_register is off");
    }
    return registered->id;
  }
  const auto problems = client.compatibility_problems(subject, schema);
  if (!problems.empty()) {
    std::string message = "channel '" + binding.channel() + "': " + binding.type()->full_name() +
                          " as in " + file.name() + " is incompatible with subject '" + subject +
                          "':";
    for (const auto& problem : problems) message += "\n  " + problem;
    fail(Errc::incompatible_schema, message);
  }
  return client.register_schema(subject, schema);
}

}  // namespace

void Producer::Impl::frame_confluent_channels() {
  for (const auto& channel : registry.channels()) {
    const auto& binding = *registry.find(channel);
    if (binding.format() != WireFormat::confluent) continue;
    if (!options.schema_registry.client) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "channel '" + channel +
                                "' is bound in a schema registry's format, and the producer has "
                                "no registry (ProducerOptions::schema_registry.client)"));
    }
    std::string prefix;
    append_confluent_prefix(prefix, schema_id_of(binding, options.schema_registry),
                            message_index_path(*binding.type()),
                            options.schema_registry.index_encoding);
    encoder.set_confluent_prefix(channel, std::move(prefix));
  }
}

}  // namespace corps
