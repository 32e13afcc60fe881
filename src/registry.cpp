#include "corps/registry.hpp"

#include <google/protobuf/dynamic_message.h>

#include <utility>

#include "corps/metadata.pb.h"
#include "detail/channel_lookup.hpp"

namespace corps {

namespace pb = google::protobuf;

namespace {

struct ExpectedField {
  int number;
  pb::FieldDescriptor::CppType type;
};

// MessageCorps's messageData, by number and type: the wire contract.
constexpr ExpectedField metadata_shape[] = {
    {1, pb::FieldDescriptor::CPPTYPE_DOUBLE}, {2, pb::FieldDescriptor::CPPTYPE_ENUM},
    {3, pb::FieldDescriptor::CPPTYPE_STRING}, {4, pb::FieldDescriptor::CPPTYPE_STRING},
    {5, pb::FieldDescriptor::CPPTYPE_STRING}, {6, pb::FieldDescriptor::CPPTYPE_INT64},
    {7, pb::FieldDescriptor::CPPTYPE_INT64},  {8, pb::FieldDescriptor::CPPTYPE_STRING},
};

bool has_metadata_shape(const pb::Descriptor* type) {
  if (type == proto::MessageData::descriptor()) return true;
  for (const auto& expected : metadata_shape) {
    const auto* field = type->FindFieldByNumber(expected.number);
    if (field == nullptr || field->is_repeated() || field->cpp_type() != expected.type)
      return false;
  }
  return true;
}

std::string bound_channels(const ChannelRegistry& registry) {
  const auto names = registry.channels();
  if (names.empty()) return "no channel is bound";
  std::string out = "bound channels: ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0) out += ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

ChannelBinding::ChannelBinding(std::string channel, const pb::Message* prototype,
                               const pb::FieldDescriptor* metadata_field, WireFormat format,
                               std::shared_ptr<const void> keep_alive)
    : channel_(std::move(channel)),
      prototype_(prototype),
      type_(prototype->GetDescriptor()),
      reflection_(prototype->GetReflection()),
      metadata_field_(metadata_field),
      format_(format),
      keep_alive_(std::move(keep_alive)) {}

const pb::FieldDescriptor* find_metadata_field(const pb::Descriptor* type) {
  const pb::FieldDescriptor* found = nullptr;
  for (int i = 0; i < type->field_count(); ++i) {
    const auto* field = type->field(i);
    if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) continue;
    if (!has_metadata_shape(field->message_type())) continue;
    if (found != nullptr) {
      throw Exception(Error(Errc::no_metadata_field, Stage::bind,
                            "type " + type->full_name() + " has two metadata fields ('" +
                                found->name() + "' and '" + field->name() +
                                "'); exactly one is expected"));
    }
    found = field;
  }
  return found;
}

const ChannelBinding& ChannelRegistry::bind(const std::string& channel,
                                            const pb::Message& prototype, WireFormat format) {
  return add(channel, prototype, format, nullptr);
}

const ChannelBinding& ChannelRegistry::bind(const std::string& channel,
                                            std::string_view full_type_name, WireFormat format) {
  const auto* type =
      pb::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(full_type_name));
  if (type == nullptr) {
    throw Exception(Error(Errc::invalid_argument, Stage::bind,
                          "cannot bind channel '" + channel + "': type '" +
                              std::string(full_type_name) + "' is not compiled into this program"));
  }
  return add(channel, *pb::MessageFactory::generated_factory()->GetPrototype(type), format,
             nullptr);
}

const ChannelBinding& ChannelRegistry::bind(const std::string& channel,
                                            std::string_view full_type_name,
                                            std::shared_ptr<const pb::DescriptorPool> pool,
                                            WireFormat format) {
  return add_dynamic(channel, full_type_name, std::move(pool), format, Arity::one);
}

const ChannelBinding& ChannelRegistry::add_type(const std::string& channel,
                                                const pb::Message& prototype, WireFormat format) {
  return add(channel, prototype, format, nullptr, Arity::several);
}

const ChannelBinding& ChannelRegistry::add_type(const std::string& channel,
                                                std::string_view full_type_name,
                                                std::shared_ptr<const pb::DescriptorPool> pool,
                                                WireFormat format) {
  return add_dynamic(channel, full_type_name, std::move(pool), format, Arity::several);
}

const ChannelBinding& ChannelRegistry::add_dynamic(const std::string& channel,
                                                   std::string_view full_type_name,
                                                   std::shared_ptr<const pb::DescriptorPool> pool,
                                                   WireFormat format, Arity arity) {
  if (!pool) {
    throw Exception(Error(Errc::invalid_argument, Stage::bind,
                          "cannot bind channel '" + channel + "': no descriptor pool given"));
  }
  const auto* type = pool->FindMessageTypeByName(std::string(full_type_name));
  if (type == nullptr) {
    throw Exception(Error(Errc::invalid_argument, Stage::bind,
                          "cannot bind channel '" + channel + "': type '" +
                              std::string(full_type_name) + "' is not in the descriptor pool"));
  }
  // The factory owns the dynamic prototypes; the pool owns the descriptors
  // they point at. The binding keeps both alive.
  struct DynamicTypes {
    std::shared_ptr<const pb::DescriptorPool> pool;
    pb::DynamicMessageFactory factory;
  };
  auto types = std::make_shared<DynamicTypes>();
  types->pool = std::move(pool);
  const pb::Message* prototype = types->factory.GetPrototype(type);
  return add(channel, *prototype, format, std::move(types), arity);
}

const ChannelBinding& ChannelRegistry::add(const std::string& channel, const pb::Message& prototype,
                                           WireFormat format,
                                           std::shared_ptr<const void> keep_alive, Arity arity) {
  const auto* type = prototype.GetDescriptor();
  if (channel.empty()) {
    throw Exception(Error(Errc::invalid_argument, Stage::bind,
                          "cannot bind type " + type->full_name() + ": the channel name is empty"));
  }
  if (const auto* existing = find(channel)) {
    if (existing->format() != format) {
      throw Exception(Error(Errc::invalid_argument, Stage::bind,
                            "channel '" + channel + "' is already bound to " +
                                existing->type()->full_name() +
                                " in another wire format; every type of a channel shares its "
                                "format"));
    }
    if (const auto* same = find(channel, type->full_name())) return *same;
    if (arity == Arity::one) {
      throw Exception(Error(Errc::type_mismatch, Stage::bind,
                            "channel '" + channel + "' is already bound to " +
                                existing->type()->full_name() + "; cannot bind it to " +
                                type->full_name() +
                                " (ChannelRegistry::bind_types binds several types to a channel)"));
    }
  }
  const auto* metadata = find_metadata_field(type);
  // A schema registry's format has room for the metadata in a header.
  if (metadata == nullptr && format == WireFormat::messagecorps) {
    throw Exception(Error(Errc::no_metadata_field, Stage::bind,
                          "cannot bind channel '" + channel + "' to " + type->full_name() +
                              ": the type has no metadata field (a message field of type " +
                              proto::MessageData::descriptor()->full_name() +
                              " or one with its field numbers and types); bind it with "
                              "WireFormat::confluent to carry the metadata in a header"));
  }
  auto binding = std::make_shared<const ChannelBinding>(channel, &prototype, metadata, format,
                                                        std::move(keep_alive));
  auto& types = bindings_[channel];
  types.push_back(std::move(binding));
  return *types.back();
}

const ChannelBinding* ChannelRegistry::find(std::string_view channel) const noexcept {
  const auto it = bindings_.find(channel);
  return it == bindings_.end() || it->second.empty() ? nullptr : it->second.front().get();
}

const ChannelBinding* ChannelRegistry::find(std::string_view channel,
                                            std::string_view full_type_name) const noexcept {
  const auto it = bindings_.find(channel);
  if (it == bindings_.end()) return nullptr;
  for (const auto& binding : it->second) {
    if (binding->type()->full_name() == full_type_name) return binding.get();
  }
  return nullptr;
}

std::vector<const ChannelBinding*> ChannelRegistry::bindings(std::string_view channel) const {
  std::vector<const ChannelBinding*> out;
  if (const auto it = bindings_.find(channel); it != bindings_.end()) {
    for (const auto& binding : it->second) out.push_back(binding.get());
  }
  return out;
}

const ChannelBinding& ChannelRegistry::at(std::string_view channel) const {
  return detail::bound_channel(*this, channel, Stage::bind);
}

const ChannelBinding& ChannelRegistry::check(std::string_view channel,
                                             const pb::Descriptor* type) const {
  return detail::bound_channel_of_type(*this, channel, type, Stage::bind);
}

std::size_t ChannelRegistry::type_count(std::string_view channel) const noexcept {
  const auto it = bindings_.find(channel);
  return it == bindings_.end() ? 0 : it->second.size();
}

std::vector<std::string> ChannelRegistry::channels() const {
  std::vector<std::string> names;
  names.reserve(bindings_.size());
  for (const auto& [name, binding] : bindings_) names.push_back(name);
  return names;
}

}  // namespace corps

namespace corps::detail {

const ChannelBinding& bound_channel(const ChannelRegistry& registry, std::string_view channel,
                                    Stage stage) {
  if (const auto* binding = registry.find(channel)) return *binding;
  throw Exception(Error(Errc::unknown_channel, stage,
                        "channel '" + std::string(channel) + "' is not bound to a type (" +
                            bound_channels(registry) + ")"));
}

const ChannelBinding& bound_channel_of_type(const ChannelRegistry& registry,
                                            std::string_view channel, const pb::Descriptor* type,
                                            Stage stage) {
  (void)bound_channel(registry, channel, stage);
  if (const auto* binding = registry.find(channel, type->full_name())) return *binding;
  throw Exception(Error(Errc::type_mismatch, stage,
                        "channel '" + std::string(channel) + "' carries " +
                            carried_types(registry, channel) + ", not " + type->full_name()));
}

std::string carried_types(const ChannelRegistry& registry, std::string_view channel) {
  std::string out;
  const auto bindings = registry.bindings(channel);
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    if (i != 0) out += i + 1 == bindings.size() ? " or " : ", ";
    out += bindings[i]->type()->full_name();
  }
  return out;
}

}  // namespace corps::detail
