#!/usr/bin/python3
"""A MessageCorps-style client, built only from other people's Kafka clients.

It reads and writes records exactly as MessageCorps does (zlib.compress of the
serialized protobuf, no key, no headers; zlib.decompress + ParseFromString on
the way back), so corps's tests can prove both directions interoperate.

  messagecorps_client.py read  --client kafka-python|confluent-kafka --brokers B --topic T --count N
  messagecorps_client.py write --brokers B --topic T --count N [--traceparent TP]

With --traceparent, `write` sends as an OpenTelemetry-instrumented producer
does: through confluent-kafka, with a W3C `traceparent` header, and no
trace_id in the metadata (such a producer knows only the header).

`read` prints one JSON object per record; `write` prints one offset per line.
Needs the generated messagecorps/*_pb2.py on PYTHONPATH.
"""
import argparse
import datetime
import json
import os
import sys
import time
import uuid
import zlib

from messagecorps import common_pb2, image_pb2


def decode(value, offset, partition):
    """What MessageCorps's MessageLoader does with a record value."""
    image = image_pb2.Image()
    image.ParseFromString(zlib.decompress(value))
    image._message_data.offset = offset
    image._message_data.partition = partition
    return image


def describe(image, key, headers):
    md = image._message_data
    return {
        "frame": image.frame,
        "width": image.width,
        "height": image.height,
        "image_data_size": len(image.image_data),
        "timestamp": md.timestamp,
        "environment": common_pb2.messageData.Environment.Name(md.environment),
        "sending_service": md.sending_service,
        "uuid": md.uuid,
        "iso_date": md.iso_date,
        "offset": md.offset,
        "partition": md.partition,
        "trace_id": md.trace_id,
        "key": key.decode() if key is not None else None,
        "headers": {name: (value.decode() if value is not None else None) for name, value in (headers or [])},
    }


def read_kafka_python(args):
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.brokers,
        group_id=None,
        auto_offset_reset="earliest",
        consumer_timeout_ms=args.timeout_ms,
        api_version=(2, 3, 0),
    )
    seen = 0
    for record in consumer:
        image = decode(record.value, record.offset, record.partition)
        print(json.dumps(describe(image, record.key, record.headers)), flush=True)
        seen += 1
        if seen >= args.count:
            break
    consumer.close()
    return seen


def read_confluent(args):
    from confluent_kafka import Consumer

    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": "interop-" + uuid.uuid4().hex,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    consumer.subscribe([args.topic])
    seen = 0
    deadline = time.monotonic() + args.timeout_ms / 1000
    while seen < args.count and time.monotonic() < deadline:
        record = consumer.poll(0.5)
        if record is None:
            continue
        if record.error():
            raise RuntimeError(str(record.error()))
        image = decode(record.value(), record.offset(), record.partition())
        print(json.dumps(describe(image, record.key(), record.headers())), flush=True)
        seen += 1
    consumer.close()
    return seen


def write_traced(args):
    """An instrumented producer: the trace in a traceparent header only."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": args.brokers})
    offsets = []

    def delivered(error, record):
        if error is not None:
            raise RuntimeError(str(error))
        offsets.append(record.offset())

    for frame in range(args.count):
        image = image_pb2.Image(image_data=b"traced", height=1, width=1, frame=frame)
        image._message_data.uuid = str(uuid.uuid4())
        producer.produce(args.topic, zlib.compress(image.SerializeToString(), -1),
                         headers=[("traceparent", args.traceparent.encode())], on_delivery=delivered)
    producer.flush(30)
    for offset in offsets:
        print(offset, flush=True)
    return len(offsets)


def write(args):
    """What MessageCorps's producer sends: its example's test frames."""
    from kafka import KafkaProducer

    if args.traceparent:
        return write_traced(args)
    producer = KafkaProducer(bootstrap_servers=args.brokers, api_version=(2, 3, 0))
    environment = os.getenv("ENVIRONMENT", "DEVELOPMENT")
    for frame in range(args.count):
        image = image_pb2.Image(image_data=b"this is just a test string", height=10, width=10, frame=frame)
        md = image._message_data
        md.iso_date = datetime.datetime.now(datetime.timezone.utc).isoformat()
        md.environment = common_pb2.messageData.Environment.Value(environment)
        md.sending_service = os.getenv("LOG_TAG_SERVICE", "NOTSET")
        md.uuid = str(uuid.uuid1())
        if not md.trace_id:
            md.trace_id = uuid.uuid1().hex
        metadata = producer.send(args.topic, zlib.compress(image.SerializeToString(), -1)).get(timeout=30)
        print(metadata.offset, flush=True)
    producer.flush()
    producer.close()
    return args.count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["read", "write"])
    parser.add_argument("--client", choices=["kafka-python", "confluent-kafka"], default="kafka-python")
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout-ms", type=int, default=30000)
    parser.add_argument("--traceparent", help="write: send this W3C traceparent header, no trace_id")
    args = parser.parse_args()
    if args.mode == "write":
        done = write(args)
    elif args.client == "kafka-python":
        done = read_kafka_python(args)
    else:
        done = read_confluent(args)
    if done != args.count:
        print(f"only {done} of {args.count} records", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
