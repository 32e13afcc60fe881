#!/usr/bin/python3
"""Confluent's framing as confluent-kafka for Python writes and reads it.

  confluent_framing.py indexes TYPE...   prints, for each type of
      descriptor.proto (e.g. google.protobuf.DescriptorProto.ExtensionRange),
      "TYPE HEX": the message indexes the ProtobufSerializer writes after
      the schema id
  confluent_framing.py decode TYPE HEX   reads the framed value HEX with the
      ProtobufDeserializer of TYPE and prints the message as JSON

Debian bookworm's confluent-kafka (1.7.0) writes the indexes as plain
unsigned varints; the functions used are the serializer's own.
"""
import io
import sys

from confluent_kafka.schema_registry.protobuf import (ProtobufDeserializer,
                                                      ProtobufSerializer,
                                                      _create_msg_index)
from google.protobuf import descriptor_pb2, json_format


def message_class(full_name):
    cls = descriptor_pb2
    for part in full_name.split(".")[2:]:  # after "google.protobuf"
        cls = getattr(cls, part)
    return cls


def main(argv):
    if argv[1] == "indexes":
        for name in argv[2:]:
            buffer = io.BytesIO()
            ProtobufSerializer._encode_uvarints(
                buffer, _create_msg_index(message_class(name).DESCRIPTOR))
            print(name, buffer.getvalue().hex())
        return 0
    if argv[1] == "decode":
        deserializer = ProtobufDeserializer(message_class(argv[2]))
        message = deserializer(bytes.fromhex(argv[3]), None)
        print(json_format.MessageToJson(message, indent=None,
                                        preserving_proto_field_name=True))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
