#include "corps/schema_compatibility.hpp"

#include <functional>
#include <string_view>

namespace corps {

namespace pb = google::protobuf;

namespace {

// Which field types the wire carries alike: a reader of one reads a value
// written as another of the same family.
int wire_family(pb::FieldDescriptor::Type type) {
  using T = pb::FieldDescriptor;
  switch (type) {
    case T::TYPE_INT32:
    case T::TYPE_UINT32:
    case T::TYPE_INT64:
    case T::TYPE_UINT64:
    case T::TYPE_BOOL:
    case T::TYPE_ENUM: return 1;
    case T::TYPE_SINT32:
    case T::TYPE_SINT64: return 2;
    case T::TYPE_FIXED32:
    case T::TYPE_SFIXED32: return 3;
    case T::TYPE_FIXED64:
    case T::TYPE_SFIXED64: return 4;
    case T::TYPE_STRING:
    case T::TYPE_BYTES: return 5;
    case T::TYPE_FLOAT: return 6;
    case T::TYPE_DOUBLE: return 7;
    case T::TYPE_MESSAGE: return 8;
    case T::TYPE_GROUP: return 9;
  }
  return 0;
}

std::string type_name(const pb::FieldDescriptor& field) {
  if (field.message_type() != nullptr) return field.message_type()->full_name();
  if (field.enum_type() != nullptr) return field.enum_type()->full_name();
  return field.type_name();
}

void for_each_message(const pb::FileDescriptor& file,
                      const std::function<void(const pb::Descriptor&)>& visit) {
  const std::function<void(const pb::Descriptor&)> walk = [&](const pb::Descriptor& message) {
    visit(message);
    for (int i = 0; i < message.nested_type_count(); ++i) walk(*message.nested_type(i));
  };
  for (int i = 0; i < file.message_type_count(); ++i) walk(*file.message_type(i));
}

void for_each_enum(const pb::FileDescriptor& file,
                   const std::function<void(const pb::EnumDescriptor&)>& visit) {
  for (int i = 0; i < file.enum_type_count(); ++i) visit(*file.enum_type(i));
  for_each_message(file, [&](const pb::Descriptor& message) {
    for (int i = 0; i < message.enum_type_count(); ++i) visit(*message.enum_type(i));
  });
}

const pb::Descriptor* find_message(const pb::FileDescriptor& file, const std::string& full_name) {
  const pb::Descriptor* found = nullptr;
  for_each_message(file, [&](const pb::Descriptor& message) {
    if (message.full_name() == full_name) found = &message;
  });
  return found;
}

const pb::EnumDescriptor* find_enum(const pb::FileDescriptor& file, const std::string& full_name) {
  const pb::EnumDescriptor* found = nullptr;
  for_each_enum(file, [&](const pb::EnumDescriptor& e) {
    if (e.full_name() == full_name) found = &e;
  });
  return found;
}

// Field numbers both versions use, with types the wire does not carry alike:
// a clash whichever version reads.
void type_clashes(const pb::FileDescriptor& older, const pb::FileDescriptor& newer,
                  std::vector<std::string>& problems) {
  for_each_message(older, [&](const pb::Descriptor& old_message) {
    const pb::Descriptor* new_message = find_message(newer, old_message.full_name());
    if (new_message == nullptr) return;  // reported as removed
    for (int i = 0; i < old_message.field_count(); ++i) {
      const pb::FieldDescriptor& was = *old_message.field(i);
      const pb::FieldDescriptor* now = new_message->FindFieldByNumber(was.number());
      if (now == nullptr) continue;  // a removed field is read as unknown, not misread
      const bool same_message = was.message_type() == nullptr || now->message_type() == nullptr ||
                                was.message_type()->full_name() == now->message_type()->full_name();
      if (wire_family(was.type()) != wire_family(now->type()) || !same_message) {
        problems.push_back(old_message.full_name() + ": field " + std::to_string(was.number()) +
                           " was " + type_name(was) + " '" + was.name() + "' and is now " +
                           type_name(*now) + " '" + now->name() + "'");
      }
    }
  });
}

// Required fields (proto2) of `reader` that `writer` does not write.
void missing_required(const pb::FileDescriptor& reader, const pb::FileDescriptor& writer,
                      std::string_view reader_is, std::vector<std::string>& problems) {
  for_each_message(reader, [&](const pb::Descriptor& read) {
    const pb::Descriptor* written = find_message(writer, read.full_name());
    if (written == nullptr) return;
    for (int i = 0; i < read.field_count(); ++i) {
      const pb::FieldDescriptor& field = *read.field(i);
      if (field.is_required() && written->FindFieldByNumber(field.number()) == nullptr) {
        problems.push_back(read.full_name() + ": the " + std::string(reader_is) +
                           " version requires field " + std::to_string(field.number()) + " '" +
                           field.name() + "', which the other does not have");
      }
    }
  });
}

void removal_problems(const pb::FileDescriptor& older, const pb::FileDescriptor& newer,
                      std::vector<std::string>& problems) {
  for_each_message(older, [&](const pb::Descriptor& message) {
    if (find_message(newer, message.full_name()) == nullptr) {
      problems.push_back("message " + message.full_name() + " was removed");
    }
  });
  for_each_enum(older, [&](const pb::EnumDescriptor& old_enum) {
    const pb::EnumDescriptor* new_enum = find_enum(newer, old_enum.full_name());
    if (new_enum == nullptr) {
      problems.push_back("enum " + old_enum.full_name() + " was removed");
      return;
    }
    for (int i = 0; i < old_enum.value_count(); ++i) {
      const pb::EnumValueDescriptor& value = *old_enum.value(i);
      if (new_enum->FindValueByNumber(value.number()) == nullptr) {
        problems.push_back("enum " + old_enum.full_name() + ": value " + value.name() + " = " +
                           std::to_string(value.number()) + " was removed");
      }
    }
  });
}

}  // namespace

std::vector<std::string> compatibility_problems(const pb::FileDescriptor& older,
                                                const pb::FileDescriptor& newer,
                                                CompatibilityLevel level) {
  std::vector<std::string> problems;
  if (level == CompatibilityLevel::none) return problems;
  const bool backward =
      level != CompatibilityLevel::forward && level != CompatibilityLevel::forward_transitive;
  const bool forward =
      level != CompatibilityLevel::backward && level != CompatibilityLevel::backward_transitive;
  removal_problems(older, newer, problems);
  type_clashes(older, newer, problems);
  if (backward) missing_required(newer, older, "new", problems);
  if (forward) missing_required(older, newer, "old", problems);
  return problems;
}

}  // namespace corps
