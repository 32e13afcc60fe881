#include "detail/parse_cost.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <vector>

namespace corps::detail {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// What protobuf 3.21 allocates, from above (libstdc++ and glibc, 64-bit).
// Repeated fields double their capacity as they grow, and the old array
// lives beside the new one while they do: what they hold counts three times.
constexpr std::size_t growth = 3;
constexpr std::size_t pointer_bytes = 8;
constexpr std::size_t heap_object_overhead = 16;  // malloc's, per allocation
constexpr std::size_t unknown_field_bytes = 16;   // UnknownField, in its set's vector
constexpr std::size_t unknown_set_bytes = 48;     // a group's UnknownFieldSet
// The container a message allocates for its first unknown field.
constexpr std::size_t unknown_container_bytes = 48 + heap_object_overhead;
constexpr std::size_t map_entry_bytes = 64;  // a map node beside the entry

// A std::string holding `length` bytes: the object, and past the 15 bytes
// kept inside it, a heap block of at least 31 bytes (libstdc++ doubles its
// small capacity first), rounded up by malloc.
std::size_t string_bytes(std::size_t length) {
  constexpr std::size_t object = 32;
  if (length <= 15) return object;
  const std::size_t block = std::max<std::size_t>(length, 30) + 1 + heap_object_overhead;
  return object + (block + 15) / 16 * 16;
}

// An enum field of a proto2 file keeps a value its enum does not name as
// an unknown field.
bool closed_enum(const FieldDescriptor& field) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
         field.enum_type()->file()->syntax() == google::protobuf::FileDescriptor::SYNTAX_PROTO2;
}

// The field `number` of `type`, or its extension of that number.
const FieldDescriptor* field_of(const Descriptor& type, int number) {
  if (const auto* field = type.FindFieldByNumber(number)) return field;
  if (type.extension_range_count() == 0) return nullptr;
  return type.file()->pool()->FindExtensionByNumber(&type, number);
}
// protobuf's own nesting limit (CodedInputStream's default recursion limit).
constexpr int max_depth = 100;

// The bytes one element of a repeated scalar field takes.
std::size_t scalar_bytes(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL: return 1;
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_ENUM: return 4;
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
    case FieldDescriptor::CPPTYPE_DOUBLE: return 8;
    case FieldDescriptor::CPPTYPE_STRING:
    case FieldDescriptor::CPPTYPE_MESSAGE: return 0;  // not scalars
  }
  return 8;
}

// The fewest wire bytes one element of a packed scalar field takes.
std::size_t packed_wire_bytes(const FieldDescriptor& field) {
  switch (
      WireFormatLite::WireTypeForFieldType(static_cast<WireFormatLite::FieldType>(field.type()))) {
    case WireFormatLite::WIRETYPE_FIXED32: return 4;
    case WireFormatLite::WIRETYPE_FIXED64: return 8;
    default: return 1;  // a varint
  }
}

bool is_scalar(const FieldDescriptor& field) {
  return field.cpp_type() != FieldDescriptor::CPPTYPE_STRING &&
         field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE;
}

}  // namespace

std::size_t ParseCost::size_of(const Descriptor* type) const {
  const auto known = sizes_.find(type);
  if (known != sizes_.end()) return known->second;
  const google::protobuf::Message* prototype =
      prototype_.GetReflection()->GetMessageFactory()->GetPrototype(type);
  const std::size_t size =
      (prototype != nullptr ? prototype->SpaceUsedLong() : 1024) + heap_object_overhead;
  sizes_.emplace(type, size);
  return size;
}

// The most memory per wire byte any field of `type` (or of the types in it)
// can cost; each element's fewest wire bytes are its tag and one byte more.
std::size_t ParseCost::ratio_of(const Descriptor* type,
                                std::map<const Descriptor*, bool>& seen) const {
  if (!seen.emplace(type, true).second) return 0;
  std::vector<const FieldDescriptor*> fields;
  for (int i = 0; i < type->field_count(); ++i) fields.push_back(type->field(i));
  if (type->extension_range_count() > 0) type->file()->pool()->FindAllExtensions(type, &fields);
  std::size_t ratio = 0;
  for (const FieldDescriptor* each : fields) {
    const FieldDescriptor& field = *each;
    std::size_t cost = 0;
    std::size_t wire = 2;
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      cost = size_of(field.message_type()) + (field.is_repeated() ? growth * pointer_bytes : 0) +
             (field.is_map() ? map_entry_bytes : 0);
      ratio = std::max(ratio, ratio_of(field.message_type(), seen));
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      // An empty string costs the most per wire byte: its object for two
      // bytes (a longer one's block costs less than its length again).
      cost = string_bytes(0) + (field.is_repeated() ? growth * pointer_bytes : 0);
    } else if (field.is_repeated()) {
      cost = growth * scalar_bytes(field);
      wire = packed_wire_bytes(field);
    }
    if (closed_enum(field)) cost = std::max(cost, growth * unknown_field_bytes);
    ratio = std::max(ratio, (cost + wire - 1) / wire);
  }
  return ratio;
}

ParseCost::ParseCost(const google::protobuf::Message& prototype) : prototype_(prototype) {
  std::map<const Descriptor*, bool> seen;
  // Unknown fields: a group (two tags) costs a field and a set; a
  // length-delimited one (a tag and a length) a field and a string; the
  // first in a message also costs the message its container.
  const std::size_t unknown = (std::max(growth * unknown_field_bytes + unknown_set_bytes,
                                        growth * unknown_field_bytes + string_bytes(0)) +
                               unknown_container_bytes) /
                              2;
  max_ratio_ = std::max(unknown, ratio_of(prototype.GetDescriptor(), seen));
  empty_size_ = size_of(prototype.GetDescriptor());
}

// One walk over a value's wire format, adding up what each field would cost.
struct ParseCost::Walk {
  const ParseCost& cost;
  std::size_t budget;
  std::size_t total = 0;

  // False once past the budget.
  bool add(std::size_t bytes) {
    total += bytes;
    return total <= budget;
  }

  // Walks fields of `type` (nullptr: unknown) until the input ends or, for
  // a group, its end tag. False if the walk must stop (over budget, or data
  // the parse will refuse).
  bool message(CodedInputStream& in, const Descriptor* type, int depth, int group_number) {
    if (depth > max_depth) return false;
    bool holds_unknown = false;  // the message's container for unknown fields
    for (;;) {
      const std::uint32_t tag = in.ReadTag();
      if (tag == 0) return group_number == 0;
      const int number = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
      const auto wire = WireFormatLite::GetTagWireType(tag);
      if (wire == WireFormatLite::WIRETYPE_END_GROUP) return number == group_number;
      const FieldDescriptor* field = type != nullptr ? field_of(*type, number) : nullptr;
      // Unknown here, or a value of a proto2 enum it may not name: either may
      // cost the message its container for unknown fields.
      if (!holds_unknown && (field == nullptr || closed_enum(*field))) {
        holds_unknown = true;
        if (!add(unknown_container_bytes)) return false;
      }
      if (!(field != nullptr ? known(in, *field, wire, depth) : unknown(in, number, wire, depth))) {
        return false;
      }
    }
  }

  bool known(CodedInputStream& in, const FieldDescriptor& field, WireFormatLite::WireType wire,
             int depth) {
    const auto expected =
        WireFormatLite::WireTypeForFieldType(static_cast<WireFormatLite::FieldType>(field.type()));
    const bool packed = field.is_repeated() && is_scalar(field) &&
                        wire == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    if (wire != expected && !packed) {
      // protobuf keeps a field of the wrong wire type as an unknown one.
      return unknown(in, field.number(), wire, depth);
    }
    if (packed) {
      std::uint32_t length = 0;
      if (!in.ReadVarint32(&length)) return false;
      const std::size_t elements = length / packed_wire_bytes(field) + 1;
      return in.Skip(static_cast<int>(length)) && add(elements * growth * scalar_bytes(field));
    }
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        const std::size_t element = cost.size_of(field.message_type()) +
                                    (field.is_repeated() ? growth * pointer_bytes : 0) +
                                    (field.is_map() ? map_entry_bytes : 0);
        if (!add(element)) return false;
        if (wire == WireFormatLite::WIRETYPE_START_GROUP) {
          return message(in, field.message_type(), depth + 1, field.number());
        }
        std::uint32_t length = 0;
        if (!in.ReadVarint32(&length)) return false;
        const auto limit = in.PushLimit(static_cast<int>(length));
        if (!message(in, field.message_type(), depth + 1, 0)) return false;
        in.PopLimit(limit);
        return true;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::uint32_t length = 0;
        if (!in.ReadVarint32(&length) || !in.Skip(static_cast<int>(length))) return false;
        return add(string_bytes(length) + (field.is_repeated() ? growth * pointer_bytes : 0));
      }
      default: {
        std::size_t cost = field.is_repeated() ? growth * scalar_bytes(field) : 0;
        if (closed_enum(field)) cost += growth * unknown_field_bytes;
        return skip_scalar(in, wire) && add(cost);
      }
    }
  }

  bool unknown(CodedInputStream& in, int number, WireFormatLite::WireType wire, int depth) {
    if (!add(growth * unknown_field_bytes)) return false;
    switch (wire) {
      case WireFormatLite::WIRETYPE_START_GROUP:
        return add(unknown_set_bytes) && message(in, nullptr, depth + 1, number);
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
        std::uint32_t length = 0;
        if (!in.ReadVarint32(&length) || !in.Skip(static_cast<int>(length))) return false;
        return add(string_bytes(length) + heap_object_overhead);  // a string kept by pointer
      }
      default: return skip_scalar(in, wire);
    }
  }

  static bool skip_scalar(CodedInputStream& in, WireFormatLite::WireType wire) {
    switch (wire) {
      case WireFormatLite::WIRETYPE_VARINT: {
        std::uint64_t ignored = 0;
        return in.ReadVarint64(&ignored);
      }
      case WireFormatLite::WIRETYPE_FIXED32: {
        std::uint32_t ignored = 0;
        return in.ReadLittleEndian32(&ignored);
      }
      case WireFormatLite::WIRETYPE_FIXED64: {
        std::uint64_t ignored = 0;
        return in.ReadLittleEndian64(&ignored);
      }
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED:
      case WireFormatLite::WIRETYPE_START_GROUP:
      case WireFormatLite::WIRETYPE_END_GROUP: return false;
    }
    return false;
  }
};

std::optional<std::size_t> ParseCost::over_budget(std::string_view bytes,
                                                  std::size_t budget) const {
  if (bytes.size() * max_ratio_ + empty_size_ <= budget) {
    return std::nullopt;  // cannot pass it, whatever the bytes say
  }
  CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  Walk walk{*this, budget};
  (void)walk.add(empty_size_);
  (void)walk.message(in, prototype_.GetDescriptor(), 0, 0);
  if (walk.total <= budget) return std::nullopt;
  return walk.total;
}

}  // namespace corps::detail
