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
    const auto bindings = registry.bindings(channel);
    if (bindings.front()->format() != WireFormat::confluent) continue;
    const auto& serializer = options.schema_registry;
    if (!serializer.client) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "channel '" + channel +
                                "' is bound in a schema registry's format, and the producer has "
                                "no registry (ProducerOptions::schema_registry.client)"));
    }
    // Under the topic strategy every type of a channel would be a version
    // of one subject: each would have to be compatible with the last.
    if (bindings.size() > 1 && serializer.subject_name_strategy == SubjectNameStrategy::topic) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "channel '" + channel + "' carries " + std::to_string(bindings.size()) +
                                " types, and the topic subject name strategy would make them "
                                "versions of one subject; use SubjectNameStrategy::record or "
                                "topic_record"));
    }
    for (const auto* binding : bindings) {
      std::string prefix;
      append_confluent_prefix(prefix, schema_id_of(*binding, serializer),
                              message_index_path(*binding->type()), serializer.index_encoding);
      encoder.set_confluent_prefix(*binding, std::move(prefix));
    }
  }
}

}  // namespace corps
