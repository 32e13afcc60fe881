// The channel registry: which protobuf type each Kafka topic carries, and
// how its values are laid out.
//
// A corps channel (a Kafka topic) carries one protobuf type, or a set of
// types bound together (bind_types), each record naming its own in its
// `corps-type` header or by its schema id. A channel in MessageCorps's format (the default) needs a
// type that holds a metadata sub-message (corps.proto.MessageData or any message with the same
// field numbers and types, e.g. MessageCorps's `messageData`). A channel in
// a schema registry's format (WireFormat::confluent) takes any type: one
// without a metadata field has corps's metadata in the `corps-metadata`
// record header instead. The registry enforces this at bind time, so
// producers and consumers can refuse unknown channels and wrongly typed
// messages.
//
// Bind in code (typed, `bind<corps::proto::Image>("VideoStream")`) or by full
// type name from a descriptor pool (dynamic, for tools that decode any topic).
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corps/error.hpp"

namespace corps {

/// How a channel's values are laid out. Readers tell the formats apart per
/// record, so a consumer reads either on any channel; the format a channel
/// is bound with is what producers write.
enum class WireFormat {
  /// MessageCorps's: the message zlib-compressed (or in the corps codec a
  /// `corps-codec` header names). The default.
  messagecorps,
  /// A schema registry's (Confluent's): magic byte 0, the schema id, the
  /// message indexes, then the message, not compressed. A Producer
  /// registers or looks up the schema (ProducerOptions::schema_registry).
  confluent,
};

/// One channel's binding: its name, its type, and where that type keeps its
/// metadata. Immutable and shared; safe to read from any thread.
class ChannelBinding {
 public:
  ChannelBinding(std::string channel, const google::protobuf::Message* prototype,
                 const google::protobuf::FieldDescriptor* metadata_field, WireFormat format,
                 std::shared_ptr<const void> keep_alive);

  /// The channel (Kafka topic) name.
  [[nodiscard]] const std::string& channel() const noexcept { return channel_; }
  /// The bound protobuf type.
  [[nodiscard]] const google::protobuf::Descriptor* type() const noexcept { return type_; }
  /// The bound type's reflection (the prototype's), asked for once: a
  /// generated message's GetReflection() goes through a std::call_once
  /// every time.
  [[nodiscard]] const google::protobuf::Reflection* reflection() const noexcept {
    return reflection_;
  }
  /// The field of type() that holds the metadata sub-message; nullptr for
  /// a type without one (only on a WireFormat::confluent channel).
  [[nodiscard]] const google::protobuf::FieldDescriptor* metadata_field() const noexcept {
    return metadata_field_;
  }
  /// The dynamic types' factory and pool, if type() is one of theirs
  /// (nullptr for a compiled type): whoever keeps a message of it beyond
  /// the registry's life keeps this too.
  [[nodiscard]] const std::shared_ptr<const void>& type_owner() const noexcept {
    return keep_alive_;
  }
  /// How producers lay out the channel's values.
  [[nodiscard]] WireFormat format() const noexcept { return format_; }
  /// A default instance of the bound type; owned by the binding.
  [[nodiscard]] const google::protobuf::Message& prototype() const noexcept { return *prototype_; }
  /// A new, empty message of the bound type, owned by the caller.
  [[nodiscard]] std::unique_ptr<google::protobuf::Message> new_message() const {
    return std::unique_ptr<google::protobuf::Message>(prototype_->New());
  }

 private:
  std::string channel_;
  const google::protobuf::Message* prototype_;
  const google::protobuf::Descriptor* type_;
  const google::protobuf::Reflection* reflection_;
  const google::protobuf::FieldDescriptor* metadata_field_;
  WireFormat format_;
  std::shared_ptr<const void> keep_alive_;  // the dynamic factory/pool, if any
};

/// A typed handle to a bound channel: sending a T through it is checked at
/// compile time. Cheap to copy.
template <class T>
class Channel {
 public:
  explicit Channel(std::string name) : name_(std::move(name)) {}
  /// The channel (Kafka topic) name.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The name, wherever a channel is named by a string: a consumer
  /// subscribes to `.channels = {orders, payments}`.
  operator const std::string&() const noexcept {
    return name_;
  }  // NOLINT(google-explicit-constructor)

 private:
  std::string name_;
};

/// Maps channel names to their bindings. A value type: copies share the
/// bindings, so producers and consumers take their own copy at construction.
/// Not synchronised: bind before handing the registry to clients.
class ChannelRegistry {
 public:
  /// Binds `channel` to the compiled-in type T, its values laid out in
  /// `format`. Throws corps::Exception (Stage::bind) if T has no metadata
  /// field and the format is MessageCorps's, or the channel is already bound
  /// to another type or format.
  template <class T>
  Channel<T> bind(std::string channel, WireFormat format = WireFormat::messagecorps) {
    bind(channel, T::default_instance(), format);
    return Channel<T>(std::move(channel));
  }

  /// Binds `channel` to every type in Ts: records of any of them may be
  /// sent on it, each naming its type in the `corps-type` header (and, in
  /// WireFormat::confluent, by its schema id), and a consumer hands each back
  /// as its own type (corps::visit). Binding more types to a channel bound
  /// this way adds them; all share one format. Throws as bind<T> does.
  template <class... Ts>
  void bind_types(const std::string& channel, WireFormat format = WireFormat::messagecorps) {
    static_assert(sizeof...(Ts) > 0, "bind_types needs at least one type");
    (add_type(channel, Ts::default_instance(), format), ...);
  }

  /// Adds the type of `prototype` to the types `channel` carries (see
  /// bind_types); `prototype` must outlive the registry.
  const ChannelBinding& add_type(const std::string& channel,
                                 const google::protobuf::Message& prototype,
                                 WireFormat format = WireFormat::messagecorps);

  /// Adds the type named `full_type_name` in `pool` to the types `channel`
  /// carries (see bind_types); messages are dynamic, and the registry
  /// shares ownership of the pool.
  const ChannelBinding& add_type(const std::string& channel, std::string_view full_type_name,
                                 std::shared_ptr<const google::protobuf::DescriptorPool> pool,
                                 WireFormat format = WireFormat::messagecorps);

  /// Binds `channel` to the type of `prototype`, which must outlive the
  /// registry and its copies (a generated default instance always does).
  const ChannelBinding& bind(const std::string& channel, const google::protobuf::Message& prototype,
                             WireFormat format = WireFormat::messagecorps);

  /// Binds `channel` to the type named `full_type_name` (e.g.
  /// "corps.proto.Image") in protobuf's generated pool.
  const ChannelBinding& bind(const std::string& channel, std::string_view full_type_name,
                             WireFormat format = WireFormat::messagecorps);

  /// Binds `channel` to the type named `full_type_name` in `pool`; messages
  /// are dynamic. The registry shares ownership of the pool.
  const ChannelBinding& bind(const std::string& channel, std::string_view full_type_name,
                             std::shared_ptr<const google::protobuf::DescriptorPool> pool,
                             WireFormat format = WireFormat::messagecorps);

  /// The binding of `channel` (its first type, if it carries several), or
  /// nullptr.
  [[nodiscard]] const ChannelBinding* find(std::string_view channel) const noexcept;

  /// The binding of `type` on `channel`, or nullptr if the channel does not
  /// carry it. Types are compared by full name: a dynamic type and a
  /// generated one of the same name are the same type on the wire.
  [[nodiscard]] const ChannelBinding* find(std::string_view channel,
                                           std::string_view full_type_name) const noexcept;

  /// Every binding of `channel`, one per type, in the order bound; empty if
  /// the channel is not bound.
  [[nodiscard]] std::vector<const ChannelBinding*> bindings(std::string_view channel) const;

  /// The binding of `channel`; throws corps::Exception (unknown_channel,
  /// Stage::bind) if it is not bound, naming the channels that are.
  [[nodiscard]] const ChannelBinding& at(std::string_view channel) const;

  /// The binding of `type` on `channel`; throws corps::Exception
  /// (type_mismatch, Stage::bind) unless the channel carries `type`, naming
  /// the channel and the types.
  const ChannelBinding& check(std::string_view channel,
                              const google::protobuf::Descriptor* type) const;

  /// How many types `channel` carries (0 if it is not bound).
  [[nodiscard]] std::size_t type_count(std::string_view channel) const noexcept;

  /// The bound channel names, sorted.
  [[nodiscard]] std::vector<std::string> channels() const;

  /// True if no channel is bound.
  [[nodiscard]] bool empty() const noexcept { return bindings_.empty(); }

 private:
  // Whether a type joins the types a channel carries or must be its only one.
  enum class Arity { one, several };

  const ChannelBinding& add(const std::string& channel, const google::protobuf::Message& prototype,
                            WireFormat format, std::shared_ptr<const void> keep_alive,
                            Arity arity = Arity::one);
  const ChannelBinding& add_dynamic(const std::string& channel, std::string_view full_type_name,
                                    std::shared_ptr<const google::protobuf::DescriptorPool> pool,
                                    WireFormat format, Arity arity);

  std::map<std::string, std::vector<std::shared_ptr<const ChannelBinding>>, std::less<>> bindings_;
};

/// The field of `type` holding the metadata sub-message, found by the shape of
/// its type (MessageCorps's field numbers and types), not by its name; nullptr
/// if there is none. Throws corps::Exception (Stage::bind) if there are two.
[[nodiscard]] const google::protobuf::FieldDescriptor* find_metadata_field(
    const google::protobuf::Descriptor* type);

}  // namespace corps
