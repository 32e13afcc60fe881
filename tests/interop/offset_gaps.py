#!/usr/bin/python3
"""Writes record batches whose offsets jump, as a real broker's log holds them.

Offsets in a Kafka partition are not always consecutive: log compaction
removes records from inside batches, and a transaction's commit or abort
marker takes an offset no consumer ever sees. librdkafka's embedded broker
neither compacts nor writes markers, so for it this writes such batches
directly, with kafka-python's record-batch builder and its protocol client
(a real broker refuses both: a batch whose record count does not match its
records, INVALID_RECORD, and a control batch from a client,
TRANSACTIONAL_ID_AUTHORIZATION_FAILED). On a real broker, real transactions
make the markers, with confluent-kafka's transactional producer:

  offset_gaps.py --brokers B --topic T compacted VALUE_HEX [VALUE_HEX ...]
      (embedded broker) one batch holding the values at offset deltas
      0, 3, 6...: what compaction leaves of a batch of 3n-2 records
  offset_gaps.py --brokers B --topic T marker
      (embedded broker) one control batch: a transaction's commit marker
  offset_gaps.py --brokers B --topic T committed|aborted VALUE_HEX [...]
      (real Kafka) the values in one transaction, committed or aborted:
      the coordinator writes its marker after them

Prints the first offset the broker gave the batch (of a transaction: its
first record's).
"""
import argparse
import os
import struct
import sys
import time

from kafka.client_async import KafkaClient
from kafka.protocol.produce import ProduceRequest
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.util import calc_crc32c
from kafka.structs import TopicPartition

HEADER = DefaultRecordBatchBuilder.HEADER_STRUCT
ATTRIBUTES_OFFSET = DefaultRecordBatchBuilder.ATTRIBUTES_OFFSET
CRC_OFFSET = DefaultRecordBatchBuilder.CRC_OFFSET
RECORD_COUNT_OFFSET = HEADER.size - 4
CONTROL = DefaultRecordBatchBuilder.CONTROL_MASK


def patched(batch, attributes=0, record_count=None):
    """The batch with extra attribute bits and another record count, CRC redone.

    A broker counts a batch's offsets by its record count; readers take the
    records that are there, each at its own offset delta.
    """
    data = bytearray(batch)
    if attributes:
        (current,) = struct.unpack_from(">h", data, ATTRIBUTES_OFFSET)
        struct.pack_into(">h", data, ATTRIBUTES_OFFSET, current | attributes)
    if record_count is not None:
        struct.pack_into(">i", data, RECORD_COUNT_OFFSET, record_count)
    struct.pack_into(">I", data, CRC_OFFSET, calc_crc32c(bytes(data[ATTRIBUTES_OFFSET:])))
    return bytes(data)


def compacted(values):
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                        batch_size=1 << 20)
    now = int(time.time() * 1000)
    for n, value in enumerate(values):
        builder.append(offset=3 * n, timestamp=now, key=None, value=value, headers=[])
    last_delta = 3 * (len(values) - 1)
    return patched(builder.build(), record_count=last_delta + 1)


def commit_marker():
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=1,
                                        producer_id=4242, producer_epoch=0, base_sequence=-1,
                                        batch_size=1 << 10)
    # Control record: key = version 0, type 1 (commit); value = version 0,
    # coordinator epoch 0.
    builder.append(offset=0, timestamp=int(time.time() * 1000), key=struct.pack(">hh", 0, 1),
                   value=struct.pack(">hi", 0, 0), headers=[])
    return patched(builder.build(), attributes=CONTROL)


def produce(brokers, topic, batch):
    client = KafkaClient(bootstrap_servers=brokers, client_id="offset-gaps")
    try:
        partition = TopicPartition(topic, 0)
        deadline = time.time() + 20
        leader = None
        while leader is None or leader < 0:
            if time.time() > deadline:
                sys.exit("no leader for %s[0]" % topic)
            client.add_topic(topic)
            client.poll(future=client.cluster.request_update(), timeout_ms=1000)
            leader = client.cluster.leader_for_partition(partition)
        while not client.ready(leader):
            if time.time() > deadline:
                sys.exit("broker %s not ready" % leader)
            client.poll(timeout_ms=100)
        request = ProduceRequest[3](transactional_id=None, required_acks=-1, timeout=10000,
                                    topics=[(topic, [(0, batch)])])
        future = client.send(leader, request)
        client.poll(future=future, timeout_ms=10000)
        if not future.succeeded():
            sys.exit("produce failed: %s" % future.exception)
        for _, partitions in future.value.topics:
            for _, error, offset, *_ in partitions:
                if error != 0:
                    sys.exit("produce refused with Kafka error %d" % error)
                print(offset)
    finally:
        client.close()


def transaction(brokers, topic, values, commit):
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": brokers,
                         "transactional.id": "offset-gaps-%d" % os.getpid()})
    producer.init_transactions(30)
    producer.begin_transaction()
    offsets = []

    def delivered(error, message):
        if error is not None:
            sys.exit("produce failed: %s" % error)
        offsets.append(message.offset())

    for value in values:
        producer.produce(topic, value, partition=0, on_delivery=delivered)
    producer.flush(30)
    if commit:
        producer.commit_transaction(30)
    else:
        producer.abort_transaction(30)
    if len(offsets) != len(values):
        sys.exit("%d of %d records delivered" % (len(offsets), len(values)))
    print(min(offsets))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("shape", choices=["compacted", "marker", "committed", "aborted"])
    parser.add_argument("values", nargs="*", help="record values, in hex")
    args = parser.parse_args()
    if args.shape in ("committed", "aborted"):
        if not args.values:
            sys.exit("a transaction needs at least one value")
        transaction(args.brokers, args.topic, [bytes.fromhex(v) for v in args.values],
                    args.shape == "committed")
        return
    if args.shape == "compacted":
        if not args.values:
            sys.exit("compacted needs at least one value")
        batch = compacted([bytes.fromhex(value) for value in args.values])
    else:
        batch = commit_marker()
    produce(args.brokers, args.topic, batch)


if __name__ == "__main__":
    main()
