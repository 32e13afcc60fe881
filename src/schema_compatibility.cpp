#include "corps/schema_compatibility.hpp"

#include <google/protobuf/descriptor.pb.h>

#include <map>
#include <set>
#include <utility>

namespace corps {

namespace pb = google::protobuf;

namespace {

// A field's label as a .proto file writes it: none for proto3's implicit
// fields, a oneof's members and maps, which Confluent's rules leave alone.
enum class Label { none, optional, required, repeated };

Label label_of(const pb::FieldDescriptor& field) {
  if (field.is_map() || field.real_containing_oneof() != nullptr) return Label::none;
  if (field.is_repeated()) return Label::repeated;
  if (field.is_required()) return Label::required;
  return field.has_optional_keyword() ? Label::optional : Label::none;
}

std::string_view label_name(Label label) {
  switch (label) {
    case Label::none: return "no label";
    case Label::optional: return "optional";
    case Label::required: return "required";
    case Label::repeated: return "repeated";
  }
  return "";
}

enum class Kind { scalar, message, map };

Kind kind_of(const pb::FieldDescriptor& field) {
  if (field.is_map()) return Kind::map;
  return field.message_type() != nullptr ? Kind::message : Kind::scalar;
}

// Which scalar types the wire carries alike: a reader of one reads a value
// written as another of the same family. Enums count as numbers.
enum class Family { number, signed_number, string_or_bytes, fixed32, fixed64, float32, float64 };

Family family_of(const pb::FieldDescriptor& field) {
  using T = pb::FieldDescriptor;
  switch (field.type()) {
    case T::TYPE_SINT32:
    case T::TYPE_SINT64: return Family::signed_number;
    case T::TYPE_STRING:
    case T::TYPE_BYTES: return Family::string_or_bytes;
    case T::TYPE_FIXED32:
    case T::TYPE_SFIXED32: return Family::fixed32;
    case T::TYPE_FIXED64:
    case T::TYPE_SFIXED64: return Family::fixed64;
    case T::TYPE_FLOAT: return Family::float32;
    case T::TYPE_DOUBLE: return Family::float64;
    default: return Family::number;  // int32/64, uint32/64, bool, enum
  }
}

std::string type_name(const pb::FieldDescriptor& field) {
  if (field.is_map()) {
    return "map<" + type_name(*field.message_type()->map_key()) + ", " +
           type_name(*field.message_type()->map_value()) + ">";
  }
  if (field.message_type() != nullptr) return field.message_type()->full_name();
  if (field.enum_type() != nullptr) return field.enum_type()->full_name();
  return field.type_name();
}

// A type's name inside its package: what Confluent compares, so a type
// that moves with its package keeps its name.
std::string local_name(const pb::Descriptor& type) {
  const std::string& package = type.file()->package();
  const std::string& full = type.full_name();
  return package.empty() ? full : full.substr(package.size() + 1);
}

std::string field_at(const pb::Descriptor& message, const pb::FieldDescriptor& field) {
  return message.full_name() + " field " + std::to_string(field.number()) + " '" + field.name() +
         "'";
}

class Differ {
 public:
  explicit Differ(std::vector<SchemaDifference>& out) : out_(out) {}

  void files(const pb::FileDescriptor& original, const pb::FileDescriptor& update) {
    original_file_ = &original;
    update_file_ = &update;
    if (original.package() != update.package()) {
      add(SchemaChange::package_changed, original.name(),
          "package '" + original.package() + "' is now '" + update.package() + "'");
    }
    scopes(types_of(original), types_of(update));
  }

 private:
  struct Scope {
    std::vector<const pb::Descriptor*> messages;
    std::vector<const pb::EnumDescriptor*> enums;
  };

  static Scope types_of(const pb::FileDescriptor& file) {
    Scope scope;
    for (int i = 0; i < file.message_type_count(); ++i)
      scope.messages.push_back(file.message_type(i));
    for (int i = 0; i < file.enum_type_count(); ++i) scope.enums.push_back(file.enum_type(i));
    return scope;
  }
  static Scope types_in(const pb::Descriptor& message) {
    Scope scope;
    for (int i = 0; i < message.nested_type_count(); ++i) {
      // A map's entry type is the map field's, compared with it.
      if (!message.nested_type(i)->options().map_entry()) {
        scope.messages.push_back(message.nested_type(i));
      }
    }
    for (int i = 0; i < message.enum_type_count(); ++i) scope.enums.push_back(message.enum_type(i));
    return scope;
  }

  void add(SchemaChange change, std::string where, std::string detail) {
    out_.push_back({change, std::move(where), std::move(detail)});
  }

  // Messages and enums of one scope, matched by name.
  void scopes(const Scope& original, const Scope& update) {
    std::map<std::string, std::pair<const pb::Descriptor*, const pb::Descriptor*>> messages;
    for (const auto* m : original.messages) messages[m->name()].first = m;
    for (const auto* m : update.messages) messages[m->name()].second = m;
    for (const auto& [name, pair] : messages) {
      const auto [was, now] = pair;
      if (now == nullptr) {
        add(SchemaChange::message_removed, was->full_name(), "the message is gone");
      } else if (was == nullptr) {
        add(SchemaChange::message_added, now->full_name(), "a new message");
      } else {
        this->messages(*was, *now);
        if (was->index() != now->index()) {
          add(SchemaChange::message_moved, was->full_name(),
              "position " + std::to_string(was->index()) + " is now " +
                  std::to_string(now->index()));
        }
      }
    }
    std::map<std::string, std::pair<const pb::EnumDescriptor*, const pb::EnumDescriptor*>> enums;
    for (const auto* e : original.enums) enums[e->name()].first = e;
    for (const auto* e : update.enums) enums[e->name()].second = e;
    for (const auto& [name, pair] : enums) {
      const auto [was, now] = pair;
      if (now == nullptr) {
        add(SchemaChange::enum_removed, was->full_name(), "the enum is gone");
      } else if (was == nullptr) {
        add(SchemaChange::enum_added, now->full_name(), "a new enum");
      } else {
        enum_values(*was, *now);
      }
    }
  }

  void enum_values(const pb::EnumDescriptor& was, const pb::EnumDescriptor& now) {
    std::map<int, std::pair<const pb::EnumValueDescriptor*, const pb::EnumValueDescriptor*>> values;
    for (int i = 0; i < was.value_count(); ++i) values[was.value(i)->number()].first = was.value(i);
    for (int i = 0; i < now.value_count(); ++i)
      values[now.value(i)->number()].second = now.value(i);
    for (const auto& [number, pair] : values) {
      const auto [a, b] = pair;
      const std::string where = was.full_name() + " value " + std::to_string(number);
      if (b == nullptr) {
        add(SchemaChange::enum_const_removed, where, a->name() + " is gone");
      } else if (a == nullptr) {
        add(SchemaChange::enum_const_added, where, "new value " + b->name());
      } else if (a->name() != b->name()) {
        add(SchemaChange::enum_const_changed, where, a->name() + " is now " + b->name());
      }
    }
  }

  void messages(const pb::Descriptor& was, const pb::Descriptor& now) {
    using Fields = std::map<int, const pb::FieldDescriptor*>;
    Fields was_top;
    Fields now_top;
    Fields was_all;
    Fields now_all;
    std::map<int, std::string> was_oneof_of;
    std::map<int, std::string> now_oneof_of;
    for (int i = 0; i < was.field_count(); ++i) {
      const auto* field = was.field(i);
      was_all[field->number()] = field;
      if (const auto* oneof = field->real_containing_oneof()) {
        was_oneof_of[field->number()] = oneof->name();
      } else {
        was_top[field->number()] = field;
      }
    }
    for (int i = 0; i < now.field_count(); ++i) {
      const auto* field = now.field(i);
      now_all[field->number()] = field;
      if (const auto* oneof = field->real_containing_oneof()) {
        now_oneof_of[field->number()] = oneof->name();
      } else {
        now_top[field->number()] = field;
      }
    }

    // Fields moved into a oneof: at most one, and only into a oneof of new
    // fields; a oneof reader keeps one of several values written together.
    for (int i = 0; i < now.real_oneof_decl_count(); ++i) {
      const auto& oneof = *now.oneof_decl(i);
      int moved = 0;
      int existing = 0;
      for (int f = 0; f < oneof.field_count(); ++f) {
        const int number = oneof.field(f)->number();
        if (was_top.erase(number) > 0) {
          ++moved;  // not a removal: compared below, by number
        } else if (was_oneof_of.count(number) > 0) {
          ++existing;
        }
      }
      const std::string where = now.full_name() + " oneof " + oneof.name();
      if (moved > 1) {
        add(SchemaChange::multiple_fields_moved_to_oneof, where,
            std::to_string(moved) + " fields that were not in a oneof are in it");
      } else if (moved == 1 && existing > 0) {
        add(SchemaChange::field_moved_to_existing_oneof, where,
            "a field that was not in a oneof joined fields that were");
      }
    }

    std::map<std::string, std::pair<const pb::OneofDescriptor*, const pb::OneofDescriptor*>> oneofs;
    for (int i = 0; i < was.real_oneof_decl_count(); ++i) {
      oneofs[was.oneof_decl(i)->name()].first = was.oneof_decl(i);
    }
    for (int i = 0; i < now.real_oneof_decl_count(); ++i) {
      oneofs[now.oneof_decl(i)->name()].second = now.oneof_decl(i);
    }
    for (const auto& [name, pair] : oneofs) {
      const auto [a, b] = pair;
      const std::string where = was.full_name() + " oneof " + name;
      if (b == nullptr) {
        add(SchemaChange::oneof_removed, where, "the oneof is gone");
      } else if (a == nullptr) {
        add(SchemaChange::oneof_added, where, "a new oneof");
      } else {
        oneof_fields(was, *a, *b, now_all);
      }
    }

    std::set<int> numbers;
    for (const auto& [number, field] : was_top) numbers.insert(number);
    for (const auto& [number, field] : now_top) numbers.insert(number);
    for (const int number : numbers) {
      const auto a = was_top.find(number);
      const auto b = now_top.find(number);
      if (b == now_top.end()) {
        const auto& field = *a->second;
        add(field.is_required() ? SchemaChange::required_field_removed
                                : SchemaChange::field_removed,
            field_at(was, field),
            std::string(field.is_required() ? "a required" : "a") + " field is gone");
      } else if (a == was_top.end()) {
        const auto& field = *b->second;
        add(field.is_required() ? SchemaChange::required_field_added : SchemaChange::field_added,
            field_at(now, field),
            std::string(field.is_required() ? "a new required" : "a new") + " field");
      } else {
        fields(was, *a->second, *b->second);
      }
    }

    // A field that joined, left or changed its oneof is compared by number
    // all the same.
    for (const auto& [number, a] : was_all) {
      const auto b = now_all.find(number);
      if (b == now_all.end()) continue;
      const auto was_in = was_oneof_of.find(number);
      const auto now_in = now_oneof_of.find(number);
      const bool top_in_both = was_in == was_oneof_of.end() && now_in == now_oneof_of.end();
      const bool same_oneof = was_in != was_oneof_of.end() && now_in != now_oneof_of.end() &&
                              was_in->second == now_in->second;
      if (!top_in_both && !same_oneof) fields(was, *a, *b->second);
    }

    scopes(types_in(was), types_in(now));
  }

  void oneof_fields(const pb::Descriptor& message, const pb::OneofDescriptor& was,
                    const pb::OneofDescriptor& now,
                    const std::map<int, const pb::FieldDescriptor*>& now_all) {
    std::map<int, std::pair<const pb::FieldDescriptor*, const pb::FieldDescriptor*>> members;
    for (int i = 0; i < was.field_count(); ++i)
      members[was.field(i)->number()].first = was.field(i);
    for (int i = 0; i < now.field_count(); ++i)
      members[now.field(i)->number()].second = now.field(i);
    for (const auto& [number, pair] : members) {
      const auto [a, b] = pair;
      if (b == nullptr) {
        // Moved out of the oneof, it loses nothing; gone from the message, a
        // reader of the other version cannot tell which member was set.
        if (now_all.count(number) == 0) {
          add(SchemaChange::oneof_field_removed, field_at(message, *a),
              "gone from oneof " + was.name());
        }
      } else if (a == nullptr) {
        add(SchemaChange::oneof_field_added, field_at(message, *b), "new in oneof " + now.name());
      } else {
        fields(message, *a, *b);
      }
    }
  }

  void fields(const pb::Descriptor& message, const pb::FieldDescriptor& was,
              const pb::FieldDescriptor& now) {
    const std::string where = field_at(message, was);
    if (was.name() != now.name()) {
      add(SchemaChange::field_name_changed, where, "now named '" + now.name() + "'");
    }
    values(where, label_of(was), label_of(now), was, now);
  }

  void values(const std::string& where, Label was_label, Label now_label,
              const pb::FieldDescriptor& was, const pb::FieldDescriptor& now) {
    const auto described = [](Label label, const pb::FieldDescriptor& field) {
      return (label == Label::none ? std::string() : std::string(label_name(label)) + " ") +
             type_name(field);
    };
    const Kind kind = kind_of(was);
    if (kind != kind_of(now)) {
      add(SchemaChange::field_kind_changed, where,
          described(was_label, was) + " is now " + described(now_label, now));
      return;
    }
    switch (kind) {
      case Kind::scalar: {
        const Family family = family_of(was);
        if (family != family_of(now)) {
          add(SchemaChange::field_scalar_kind_changed, where,
              described(was_label, was) + " is now " + described(now_label, now) +
                  ", which the wire carries differently");
        } else if (was_label != Label::none && now_label != Label::none && was_label != now_label) {
          add(family == Family::string_or_bytes ? SchemaChange::field_string_or_bytes_label_changed
                                                : SchemaChange::field_numeric_label_changed,
              where, described(was_label, was) + " is now " + described(now_label, now));
        }
        return;
      }
      case Kind::message: named_types(where, *was.message_type(), *now.message_type()); return;
      case Kind::map:
        values(where + " (key)", Label::none, Label::none, *was.message_type()->map_key(),
               *now.message_type()->map_key());
        values(where + " (value)", Label::none, Label::none, *was.message_type()->map_value(),
               *now.message_type()->map_value());
        return;
    }
  }

  void named_types(const std::string& where, const pb::Descriptor& was, const pb::Descriptor& now) {
    if (local_name(was) != local_name(now)) {
      add(SchemaChange::field_named_type_changed, where,
          "type " + was.full_name() + " is now " + now.full_name());
      return;
    }
    // A type of the file itself is compared where it is declared; an
    // imported one (a reference to another subject) is compared here, once.
    if (was.file() == original_file_ && now.file() == update_file_) return;
    if (!compared_.insert({&was, &now}).second) return;
    std::vector<SchemaDifference> inner;
    Differ nested(inner);
    nested.original_file_ = original_file_;
    nested.update_file_ = update_file_;
    nested.compared_ = compared_;
    nested.messages(was, now);
    bool compatible = true;
    for (auto& difference : inner) {
      compatible = compatible && is_compatible(difference.change);
      out_.push_back(std::move(difference));
    }
    if (!compatible) {
      add(SchemaChange::field_named_type_changed, where,
          "type " + was.full_name() + " changed in a way its readers cannot follow");
    }
  }

  std::vector<SchemaDifference>& out_;
  // The files compared: a message type declared in another is an import,
  // compared through the field that uses it.
  const pb::FileDescriptor* original_file_ = nullptr;
  const pb::FileDescriptor* update_file_ = nullptr;
  std::set<std::pair<const pb::Descriptor*, const pb::Descriptor*>> compared_;
};

}  // namespace

std::string_view to_string(SchemaChange change) noexcept {
  switch (change) {
    case SchemaChange::package_changed: return "PACKAGE_CHANGED";
    case SchemaChange::message_added: return "MESSAGE_ADDED";
    case SchemaChange::message_removed: return "MESSAGE_REMOVED";
    case SchemaChange::message_moved: return "MESSAGE_MOVED";
    case SchemaChange::enum_added: return "ENUM_ADDED";
    case SchemaChange::enum_removed: return "ENUM_REMOVED";
    case SchemaChange::enum_const_added: return "ENUM_CONST_ADDED";
    case SchemaChange::enum_const_changed: return "ENUM_CONST_CHANGED";
    case SchemaChange::enum_const_removed: return "ENUM_CONST_REMOVED";
    case SchemaChange::field_added: return "FIELD_ADDED";
    case SchemaChange::field_removed: return "FIELD_REMOVED";
    case SchemaChange::field_name_changed: return "FIELD_NAME_CHANGED";
    case SchemaChange::field_kind_changed: return "FIELD_KIND_CHANGED";
    case SchemaChange::field_scalar_kind_changed: return "FIELD_SCALAR_KIND_CHANGED";
    case SchemaChange::field_named_type_changed: return "FIELD_NAMED_TYPE_CHANGED";
    case SchemaChange::field_numeric_label_changed: return "FIELD_NUMERIC_LABEL_CHANGED";
    case SchemaChange::field_string_or_bytes_label_changed:
      return "FIELD_STRING_OR_BYTES_LABEL_CHANGED";
    case SchemaChange::required_field_added: return "REQUIRED_FIELD_ADDED";
    case SchemaChange::required_field_removed: return "REQUIRED_FIELD_REMOVED";
    case SchemaChange::oneof_added: return "ONEOF_ADDED";
    case SchemaChange::oneof_removed: return "ONEOF_REMOVED";
    case SchemaChange::oneof_field_added: return "ONEOF_FIELD_ADDED";
    case SchemaChange::oneof_field_removed: return "ONEOF_FIELD_REMOVED";
    case SchemaChange::multiple_fields_moved_to_oneof: return "MULTIPLE_FIELDS_MOVED_TO_ONEOF";
    case SchemaChange::field_moved_to_existing_oneof: return "FIELD_MOVED_TO_EXISTING_ONEOF";
  }
  return "UNKNOWN";
}

bool is_compatible(SchemaChange change) noexcept {
  switch (change) {
    case SchemaChange::message_added:
    case SchemaChange::message_moved:
    case SchemaChange::enum_added:
    case SchemaChange::enum_removed:
    case SchemaChange::enum_const_added:
    case SchemaChange::enum_const_changed:
    case SchemaChange::enum_const_removed:
    case SchemaChange::field_added:
    case SchemaChange::field_removed:
    case SchemaChange::field_name_changed:
    case SchemaChange::field_string_or_bytes_label_changed:
    case SchemaChange::oneof_added:
    case SchemaChange::oneof_removed:
    case SchemaChange::oneof_field_added: return true;
    default: return false;
  }
}

std::string SchemaDifference::to_string() const {
  return std::string(corps::to_string(change)) + " at " + where + ": " + detail;
}

std::vector<SchemaDifference> schema_differences(const pb::FileDescriptor& original,
                                                 const pb::FileDescriptor& update) {
  std::vector<SchemaDifference> out;
  Differ(out).files(original, update);
  return out;
}

std::vector<std::string> compatibility_problems(const pb::FileDescriptor& older,
                                                const pb::FileDescriptor& newer,
                                                CompatibilityLevel level) {
  std::vector<std::string> problems;
  if (level == CompatibilityLevel::none) return problems;
  const bool backward =
      level != CompatibilityLevel::forward && level != CompatibilityLevel::forward_transitive;
  const bool forward =
      level != CompatibilityLevel::backward && level != CompatibilityLevel::backward_transitive;
  std::set<std::pair<SchemaChange, std::string>> seen;
  // FORWARD compares the other way round, so its lines say "is now" of
  // the older version: they are marked as what old readers meet.
  const auto collect = [&](const pb::FileDescriptor& original, const pb::FileDescriptor& update,
                           std::string_view prefix) {
    for (const auto& difference : schema_differences(original, update)) {
      if (is_compatible(difference.change)) continue;
      if (!seen.insert({difference.change, difference.where}).second) continue;
      problems.push_back(std::string(prefix) + difference.to_string());
    }
  };
  if (backward) collect(older, newer, "");
  if (forward) collect(newer, older, "for old readers, from the new version to the old: ");
  return problems;
}

}  // namespace corps
