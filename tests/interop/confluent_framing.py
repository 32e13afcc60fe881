#!/usr/bin/python3
"""Confluent's framing as confluent-kafka for Python writes and reads it.

  confluent_framing.py indexes TYPE...   prints, for each type of
      descriptor.proto (e.g. google.protobuf.DescriptorProto.ExtensionRange),
      "TYPE HEX": the message indexes the ProtobufSerializer writes after
      the schema id
  confluent_framing.py decode TYPE HEX   reads the framed value HEX with the
      ProtobufDeserializer of TYPE and prints the message as JSON
  confluent_framing.py produce BROKERS COUNT [REGISTRY_URL]   writes COUNT
      MessageCorps Images to FramedImages and COUNT Predictions (the second
      message of their file) to FramedPredictions with confluent-kafka's
      Producer and ProtobufSerializer, keyed by their number; prints each
      value in hex. With REGISTRY_URL the serializer registers the schemas
      there with confluent-kafka's SchemaRegistryClient; without, a stand-in
      hands out ids
  confluent_framing.py consume BROKERS TOPIC TYPE COUNT   reads COUNT records
      of TOPIC with confluent-kafka's Consumer and the ProtobufDeserializer
      of MessageCorps's TYPE (Image or Prediction); prints each message as
      JSON

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


class RegistryStandIn:
    """Hands out schema ids as a registry would; the serializer asks it for
    the id of each subject (the file's, and its import's) and writes the
    bytes itself."""

    def __init__(self):
        self.ids = {}

    def register_schema(self, subject, schema):
        return self.ids.setdefault(subject, 100 + len(self.ids))

    def lookup_schema(self, subject, schema):
        class Registered:
            schema_id = self.ids[subject]
            version = 1
        return Registered()


def produce(brokers, count, registry_url=None):
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.serialization import MessageField, SerializationContext
    from messagecorps import image_pb2

    if registry_url:
        registry = SchemaRegistryClient({"url": registry_url})
    else:
        registry = RegistryStandIn()
    producer = Producer({"bootstrap.servers": brokers})
    for topic, cls in (("FramedImages", image_pb2.Image),
                       ("FramedPredictions", image_pb2.Prediction)):
        serialize = ProtobufSerializer(cls, registry)
        for n in range(count):
            message = cls(frame=n)
            if cls is image_pb2.Image:
                message.image_data = b"framed by python"
                message.width = 7
            else:
                message.object.extend(["person", "car"])
            value = serialize(message, SerializationContext(topic, MessageField.VALUE))
            producer.produce(topic, key=str(n), value=value)
            print(topic, value.hex())
    if producer.flush(30) != 0:
        raise SystemExit("not every record was delivered")


def consume(brokers, topic, type_name, count):
    from confluent_kafka import Consumer
    from confluent_kafka.serialization import MessageField, SerializationContext
    from messagecorps import image_pb2

    deserialize = ProtobufDeserializer(getattr(image_pb2, type_name))
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": "python-deserializer",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    read = 0
    while read < count:
        record = consumer.poll(30)
        if record is None:
            raise SystemExit("no record within 30 s")
        if record.error():
            raise SystemExit(str(record.error()))
        message = deserialize(record.value(), SerializationContext(topic, MessageField.VALUE))
        print(json_format.MessageToJson(message, indent=None, preserving_proto_field_name=True))
        read += 1
    consumer.close()


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
    if argv[1] == "produce":
        produce(argv[2], int(argv[3]), argv[4] if len(argv) > 4 else None)
        return 0
    if argv[1] == "consume":
        consume(argv[2], argv[3], argv[4], int(argv[5]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
