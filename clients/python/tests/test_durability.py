"""What the Python client promises across crashes, with real kill -9s:

* a record whose future has an offset is in the log after the broker is
  killed and restarted (with the broker's default --flush always);
* a consumer group killed mid-stream resumes at its last commit: no record is
  skipped, and at most the records since that commit are read again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import rustlog
from conftest import Broker

WAIT = 60.0


def test_acknowledged_records_survive_kill9_of_the_broker(own_broker: Broker, topic_name: str) -> None:
    b = own_broker
    with rustlog.Client(b.address) as c:
        c.create_topic(topic_name, 3)
    with rustlog.Producer(b.address, linger=0.001) as p:
        futures = [p.send(topic_name, b"v%d" % i, key=b"k%d" % (i % 11)) for i in range(3000)]
        acked = {(f.partition, f.result(WAIT)): i for i, f in enumerate(futures)}
    b.kill9()
    b.start()  # same data dir, new port
    with rustlog.Client(b.address) as c:
        stored = {}
        for part in range(3):
            offset = 0
            while offset < c.latest_offset(topic_name, part):
                f = c.fetch(topic_name, part, offset)
                for r in f.records:
                    stored[(part, r.offset)] = r.value
                offset = f.next_offset
    assert {k: b"v%d" % i for k, i in acked.items()} == stored


CONSUMER = textwrap.dedent(
    """
    import sys, rustlog
    address, topic, group = sys.argv[1:4]
    with rustlog.Consumer(address, topic, group=group, commit_every=50, max_poll_records=100,
                          consumer_timeout=2.0) as c:
        for r in c:
            sys.stdout.write("%d\\n" % r.offset)
            sys.stdout.flush()
    """
)


def test_a_consumer_killed_mid_stream_resumes_at_its_commit(broker: Broker, client: rustlog.Client,
                                                            topic_name: str, tmp_path: Path) -> None:
    group = topic_name + "-g"
    client.create_topic(topic_name, 1)
    for i in range(0, 2000, 500):
        client.produce(topic_name, 0, [b"%d" % j for j in range(i, i + 500)])
    script = tmp_path / "consume.py"
    script.write_text(CONSUMER)
    args = [sys.executable, str(script), broker.address, topic_name, group]

    first = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert first.stdout is not None
    seen_first = []
    deadline = time.monotonic() + WAIT
    while len(seen_first) < 700 and time.monotonic() < deadline:
        line = first.stdout.readline()
        if not line:
            break
        seen_first.append(int(line))
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    seen_first += [int(x) for x in first.stdout.read().split()]
    assert len(seen_first) >= 700, "the first consumer did not get far enough"

    committed = client.committed_offset(group, topic_name, 0)
    assert committed is not None and committed <= len(seen_first)
    assert len(seen_first) - committed <= 50  # at most commit_every records are read again

    second = subprocess.run(args, capture_output=True, text=True, timeout=WAIT * 2)
    assert second.returncode == 0, second.stderr
    seen_second = [int(x) for x in second.stdout.split()]
    assert seen_second[0] == committed  # resumes exactly at the commit
    assert seen_first == list(range(len(seen_first)))
    assert seen_second == list(range(committed, 2000))  # nothing skipped
    assert client.committed_offset(group, topic_name, 0) == 2000
