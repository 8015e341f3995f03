#!/usr/bin/env python3
"""producer: writes keyed orders with a header and prints where they landed.

    python3 examples/python/producer.py [--broker HOST:PORT] [--topic T] [--count N]

Creates the topic (3 partitions) when it does not exist. Records with the same
key go to the same partition (the FNV-1a partitioner the C++ client and
`rustlog produce` use), so each customer's orders stay in order. The producer
batches per partition and keeps several requests in flight; each send()
returns a future of the record's offset.
"""

import argparse
import collections
import sys

import rustlog


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--broker", default=None, help="HOST:PORT (default: $RUSTLOG_BROKER, else 127.0.0.1:9092)")
    ap.add_argument("--topic", default="example-orders")
    ap.add_argument("--count", type=int, default=100)
    args = ap.parse_args()

    with rustlog.Client(args.broker) as admin:
        try:
            admin.create_topic(args.topic, partitions=3)
        except rustlog.TopicExists:
            pass  # a second run appends to the same topic

    with rustlog.Producer(args.broker, linger=0.01) as producer:
        futures = []
        for i in range(args.count):
            customer = f"customer-{i % 7}"
            futures.append(producer.send(args.topic, f"order {i} for {customer}", key=customer,
                                         headers={"source": "python-producer-example"}))
        producer.flush()

    by_partition = collections.defaultdict(list)
    for f in futures:
        by_partition[f.partition].append(f.result())  # raises if that record failed
    for partition in sorted(by_partition):
        offsets = by_partition[partition]
        print(f"partition {partition}: {len(offsets)} records at offsets {min(offsets)}..{max(offsets)}")
    print(f"produced {len(futures)} records to {args.topic}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except rustlog.RustLogError as e:
        print(f"producer: {e}", file=sys.stderr)
        sys.exit(1)
