"""Interop with the C++ side, both directions, compared exactly: keys,
values, headers, timestamps, null vs empty.

* Python -> ``rustlog consume --format json`` (the CLI), and -> the C++ client
  library (tests/tools/interop_client.cpp, bytes as hex, so any byte).
* The C++ client library and ``rustlog produce`` -> Python.
* The key partitioner, Python against ``client::partition_for_key``.
"""

from __future__ import annotations

import json
import random
import subprocess
from typing import Any, Dict, List, Optional

import pytest

import rustlog
from rustlog import ProducerRecord as PR
from conftest import Broker, bin_dir, run_cli

SEED = 1616


def interop(*args: str, input: Optional[Any] = None) -> Any:
    exe = bin_dir() / "tests" / "interop_client"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: cmake --build --preset release --target interop_client")
    r = subprocess.run([str(exe), *args], input=None if input is None else json.dumps(input).encode(),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return json.loads(r.stdout)


def hx(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.hex()


def random_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def text_records() -> List[PR]:
    """Records the CLI's JSON can show exactly (UTF-8 text)."""
    return [
        PR("plain", key="k1", headers=[("source", "py"), ("source", ""), ("ключ", "значение")], timestamp=1_000_000),
        PR(None, key="k1", timestamp=2_000_000),  # tombstone
        PR("", key="", timestamp=3_000_000),  # empty key and value, not null
        PR("no key", key=None, timestamp=4_000_000),
        PR("broker time", key="k2"),
        PR('quotes " and \\ and \n newline', key="k3", timestamp=1_700_000_000_123_456),
    ]


def test_python_records_read_by_rustlog_consume_json(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    sent = text_records()
    r = client.produce(topic_name, 0, sent)
    out = run_cli(broker, "consume", topic_name, "--from-beginning", "--format", "json").stdout.decode()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(sent)
    for i, (rec, line) in enumerate(zip(sent, lines)):
        expected_ts = rec.timestamp if rec.timestamp >= 0 else r.append_time
        assert line == {
            "topic": topic_name,
            "partition": 0,
            "offset": i,
            "timestamp": line["timestamp"],  # ISO text of timestamp_us, checked below
            "timestamp_us": expected_ts,
            "key": rec.key,
            "value": rec.value,
            "headers": [{"name": n, "value": v} for n, v in (rec.headers or [])],
        }
    assert lines[0]["timestamp"] == "1970-01-01T00:00:01.000Z"
    assert lines[5]["timestamp"] == "2023-11-14T22:13:20.123Z"


def test_python_producer_records_read_by_rustlog_consume_per_partition(broker: Broker, client: rustlog.Client,
                                                                       topic_name: str) -> None:
    client.create_topic(topic_name, 4)
    keys = [f"user-{i}" for i in range(25)]
    with rustlog.Producer(broker.address) as p:
        futures = [p.send(topic_name, f"event {i}", key=k) for i, k in enumerate(keys)]
    for part in range(4):
        out = run_cli(broker, "consume", topic_name, "-p", str(part), "--format", "json").stdout.decode()
        got = [(d["key"], d["value"], d["offset"]) for d in map(json.loads, out.splitlines())]
        assert got == [(keys[i], f"event {i}", f.result()) for i, f in enumerate(futures) if f.partition == part]


def binary_spec(rng: random.Random) -> List[Dict[str, Any]]:
    spec: List[Dict[str, Any]] = [
        {"timestamp": -1, "key": None, "value": None, "headers": []},
        {"timestamp": -1, "key": "", "value": "", "headers": [["empty", ""]]},
        {"timestamp": 0, "key": "00", "value": "ff", "headers": []},
        {"timestamp": 123456789, "key": None, "value": "", "headers": [["dup", "01"], ["dup", "02"], ["ü", "00ff"]]},
    ]
    for i in range(40):
        spec.append({
            "timestamp": rng.choice([-1, rng.randrange(0, 1 << 62)]),
            "key": rng.choice([None, random_bytes(rng, rng.randrange(0, 40)).hex()]),
            "value": rng.choice([None, random_bytes(rng, rng.randrange(0, 3000)).hex()]),
            "headers": [[f"h{j}", random_bytes(rng, rng.randrange(0, 20)).hex()] for j in range(rng.randrange(0, 4))],
        })
    return spec


@pytest.mark.parametrize("batch_ts", [-1, 777_000_000])
def test_cpp_library_records_read_from_python(broker: Broker, client: rustlog.Client, topic_name: str,
                                              batch_ts: int) -> None:
    client.create_topic(topic_name, 1)
    spec = binary_spec(random.Random(SEED + batch_ts))
    answer = interop("produce", broker.address, topic_name, "0", str(batch_ts), input=spec)
    assert answer["base_offset"] == 0 and answer["record_count"] == len(spec)

    def expected_ts(s: Dict[str, Any]) -> int:
        if s["timestamp"] >= 0:
            return s["timestamp"]
        return batch_ts if batch_ts >= 0 else answer["append_time_us"]

    fetched: List[rustlog.Record] = []
    offset = 0
    while offset < len(spec):
        f = client.fetch(topic_name, 0, offset)
        fetched += f.records
        offset = f.next_offset
    with rustlog.Consumer(broker.address, topic_name, consumer_timeout=0.5) as c:
        consumed = list(c)
    for got in (fetched, consumed):
        assert len(got) == len(spec)
        for i, (rec, s) in enumerate(zip(got, spec)):
            assert rec.offset == i
            assert rec.timestamp == expected_ts(s)
            assert hx(rec.key) == s["key"] and hx(rec.value) == s["value"]
            assert [[n, v.hex()] for n, v in rec.headers] == s["headers"]
            assert rec.key is None if s["key"] is None else isinstance(rec.key, bytes)


def test_python_records_read_by_the_cpp_library(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    rng = random.Random(SEED)
    spec = binary_spec(rng)
    sent = [PR(None if s["value"] is None else bytes.fromhex(s["value"]),
               key=None if s["key"] is None else bytes.fromhex(s["key"]),
               headers=[(n, bytes.fromhex(v)) for n, v in s["headers"]], timestamp=s["timestamp"]) for s in spec]
    half = len(sent) // 2
    r1 = client.produce(topic_name, 0, sent[:half])
    with rustlog.Producer(broker.address) as p:
        futures = [p.send(topic_name, x.value, key=x.key, headers=x.headers, timestamp=x.timestamp, partition=0)
                   for x in sent[half:]]
    got = interop("fetch", broker.address, topic_name, "0", "0")
    assert len(got) == len(spec)
    for i, (g, s) in enumerate(zip(got, spec)):
        if s["timestamp"] >= 0:
            ts = s["timestamp"]
        else:
            ts = r1.append_time if i < half else futures[i - half].timestamp
        assert g == {**s, "offset": i, "timestamp": ts}


def test_rustlog_produce_lines_read_from_python_on_the_same_partitions(broker: Broker, client: rustlog.Client,
                                                                       topic_name: str) -> None:
    client.create_topic(topic_name, 3)
    lines = ["alice:one", "bob:two", "no separator here", "carol:", ":empty key", "alice:three", "dave:a:b"]
    run_cli(broker, "produce", topic_name, "-k", ":", "-H", "source=cli", "-H", "run=1",
            input=("\n".join(lines) + "\n").encode())
    with rustlog.Consumer(broker.address, topic_name, consumer_timeout=0.5) as c:
        got = {(r.key, r.value): r for r in c}
    expected = [(b"alice", b"one"), (b"bob", b"two"), (None, b"no separator here"), (b"carol", b""),
                (b"", b"empty key"), (b"alice", b"three"), (b"dave", b"a:b")]
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    for (key, value), r in got.items():
        assert r.headers == [("source", b"cli"), ("run", b"1")]
        assert r.partition == (0 if key is None else rustlog.partition_for_key(key, 3))
    # The Python producer puts the same keys on the same partitions.
    with rustlog.Producer(broker.address) as p:
        for key, _ in expected:
            if key is not None:
                assert p.send(topic_name, b"again", key=key).partition == got[(key, dict(expected)[key])].partition


def test_partitioner_matches_the_cpp_client_on_random_keys() -> None:
    rng = random.Random(SEED)
    keys = [random_bytes(rng, rng.randrange(0, 64)) for _ in range(2000)] + [b"", b"a", "ключ".encode()]
    for n in (1, 2, 3, 7, 16, 1000):
        assert interop("partition", str(n), input=[k.hex() for k in keys]) == [
            rustlog.partition_for_key(k, n) for k in keys
        ]
