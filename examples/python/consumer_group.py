#!/usr/bin/env python3
"""consumer_group: reads a topic as a consumer group and commits as it goes.

    python3 examples/python/consumer_group.py [--broker HOST:PORT] [--topic T] [--group G] [--max N]

A group with no committed offset starts at the earliest record; later runs
start at the group's committed offset. The consumer commits every 10 records
it has handed out (and the rest on close), so a crash repeats at most those
and never skips one. It stops when no record arrives for a second, or after
--max records. Run it twice: the second run picks up where the first stopped.
"""

import argparse
import sys

import rustlog


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--broker", default=None, help="HOST:PORT (default: $RUSTLOG_BROKER, else 127.0.0.1:9092)")
    ap.add_argument("--topic", default="example-orders")
    ap.add_argument("--group", default="example-group")
    ap.add_argument("--max", type=int, default=0, help="stop after this many records (0 = until idle)")
    args = ap.parse_args()

    count = 0
    with rustlog.Consumer(args.broker, args.topic, group=args.group, auto_offset_reset="earliest",
                          commit_every=10, consumer_timeout=1.0) as consumer:
        for record in consumer:
            key = record.key.decode() if record.key is not None else "-"
            value = record.value.decode() if record.value is not None else "(tombstone)"
            print(f"{record.partition}/{record.offset} {key}: {value}")
            count += 1
            if args.max and count >= args.max:
                break
    # close() committed everything handed out.
    print(f"consumed {count} records")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except rustlog.RustLogError as e:
        print(f"consumer_group: {e}", file=sys.stderr)
        sys.exit(1)
