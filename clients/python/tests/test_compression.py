"""Producer compression (lz4, zstd) against a real kafka-lite: the batches the
Python Producer builds are stored as sent, compressed, and read back exactly
by the Python consumer and ``rustlog consume``; Python and the C++ encoder
(``rustlog produce --compression``) store the same bytes for the same
records; a batch corrupted after its CRC was computed is refused and nothing
is stored; without the codec modules the package still works uncompressed.
"""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import rustlog
from rustlog import Compression, ProducerRecord as PR, parse_compression
from rustlog import _codec, _compression, _record_batch, _sender
from conftest import Broker, bin_dir, run_cli

CODECS = ["lz4", "zstd"]
SEED = 1919
WAIT = 60.0

lz4_frame = pytest.importorskip("lz4.frame", reason="python3-lz4 is not installed (scripts/setup.sh installs it)")
zstandard = pytest.importorskip("zstandard", reason="python3-zstandard is not installed (scripts/setup.sh installs it)")
pytest.importorskip("crc32c", reason="python3-crc32c is not installed (scripts/setup.sh installs it)")

_HEADER = struct.Struct(">QIBIHIqqI")  # docs/STORAGE.md, section 2


class StoredBatch:
    """One batch as the broker stored it in a .log file."""

    def __init__(self, raw: bytes) -> None:
        (self.base_offset, self.length, self.magic, self.crc, self.attributes, self.last_offset_delta,
         self.first_timestamp, self.max_timestamp, self.record_count) = _HEADER.unpack_from(raw, 0)
        self.raw = raw
        self.section = raw[_HEADER.size:]

    @property
    def codec(self) -> str:
        return {0: "none", 1: "lz4", 2: "zstd"}[self.attributes & 7]

    def records_section(self) -> bytes:
        if self.codec == "lz4":
            return bytes(lz4_frame.decompress(self.section))
        if self.codec == "zstd":
            return bytes(zstandard.ZstdDecompressor().decompress(self.section))
        return self.section


def stored_batches(broker: Broker, topic: str, partition: int = 0) -> List[StoredBatch]:
    out = []
    for seg in sorted((broker.data_dir / f"{topic}-{partition}").glob("*.log")):
        data = seg.read_bytes()
        pos = 0
        while pos + 12 <= len(data):
            if not data[pos:].strip(b"\0"):
                break  # the zeros preallocated ahead of the active segment's appends: the end of the data
            (length,) = struct.unpack_from(">I", data, pos + 8)
            out.append(StoredBatch(data[pos : pos + 12 + length]))
            pos += 12 + length
    return out


def fetch_all(client: rustlog.Client, topic: str, partition: int = 0) -> List[rustlog.Record]:
    records: List[rustlog.Record] = []
    offset = 0
    while True:
        r = client.fetch(topic, partition, offset)
        records += r.records
        offset = r.next_offset
        if offset >= r.high_watermark:
            return records


def access_log(rng: random.Random, n: int) -> List[bytes]:
    """Generated access-log lines of ~200 bytes (a compressible workload)."""
    paths = ["/api/v1/orders", "/api/v1/users/profile", "/static/app.js", "/healthz", "/api/v1/search?q=shoes"]
    agents = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "curl/7.88.1", "Go-http-client/1.1"]
    return [(f'10.0.{rng.randrange(256)}.{rng.randrange(256)} - - [01/Dec/2026:22:{i // 60 % 60:02d}:{i % 60:02d} '
             f'+0000] "GET {rng.choice(paths)} HTTP/1.1" {rng.choice([200, 200, 200, 404, 500])} '
             f'{rng.randrange(100, 90000)} "-" "{rng.choice(agents)}" rt={rng.random():.3f}').encode()
            for i in range(n)]


def mixed_records(rng: random.Random) -> List[PR]:
    """Keys, null vs empty, tombstones, binary bytes, repeated and non-ASCII
    headers; runs of records with their own timestamp and without (broker
    time), extreme timestamps included."""
    def b(n: int) -> bytes:
        return bytes(rng.getrandbits(8) for _ in range(n))

    out = [
        PR(b"plain value " * 20, key=b"k1", headers=[("h", b"1"), ("h", b""), ("ключ", "значение")], timestamp=1_000),
        PR(None, key=b"k1", timestamp=2_000),  # tombstone
        PR(b"", key=b"", timestamp=0),  # empty key and value, not null
        PR(b(300), key=b(16), headers=[("bin", b(40))], timestamp=(1 << 63) - 1),
        PR(b"after the largest timestamp", key=None, timestamp=5),
        PR(b"broker time " * 10, key=b"k2"),
        PR(b"broker time too " * 10, key=None, headers={"x": b"y"}),
        PR(b"own again " * 10, key=b"k3", timestamp=1_700_000_000_123_456),
    ]
    out += [PR(b"bulk %d " % i * 8, key=b"k%d" % (i % 7), timestamp=1_700_000_000_000_000 + i) for i in range(200)]
    out += [PR(b"bulk broker time %d " % i * 8, key=None) for i in range(50)]
    return out


@pytest.mark.parametrize("codec", CODECS)
def test_compressed_records_round_trip_byte_for_byte(broker: Broker, client: rustlog.Client, topic_name: str,
                                                     codec: str) -> None:
    client.create_topic(topic_name, 1)
    sent = mixed_records(random.Random(SEED))
    with rustlog.Producer(broker.address, compression=codec, linger=3600, batch_size=1 << 20) as p:
        futures = [p.send(topic_name, r.value, key=r.key, headers=r.headers, timestamp=r.timestamp) for r in sent]
        p.flush(WAIT)
        # own, broker, own, broker: one batch per run of one timestamp rule
        assert p.stats["requests"] == 4 and p.stats["produce_batch_requests"] == 4
    assert [f.result() for f in futures] == list(range(len(sent)))
    got = fetch_all(client, topic_name)
    assert len(got) == len(sent)
    for i, (r, f, g) in enumerate(zip(sent, futures, got)):
        assert g.offset == i
        assert (g.key, g.value) == (rustlog.client.to_bytes(r.key, "k"), rustlog.client.to_bytes(r.value, "v"))
        assert g.headers == rustlog.client.to_headers(r.headers)
        assert g.timestamp == f.timestamp
        if r.timestamp >= 0:
            assert g.timestamp == r.timestamp
    broker_time = [g.timestamp for r, g in zip(sent, got) if r.timestamp < 0]
    assert broker_time and all(ts > 1_700_000_000_000_000 for ts in broker_time)
    batches = stored_batches(broker, topic_name)
    assert [b.codec for b in batches] == [codec] * 4
    assert [b.first_timestamp for b in batches][:2] == [1_000, broker_time[0]]

    # The C++ consumer: rustlog consume reads the same records (the UTF-8 ones).
    out = run_cli(broker, "consume", topic_name, "--from-beginning", "--format", "json").stdout.decode()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["offset"] for line in lines] == list(range(len(sent)))
    assert [line["timestamp_us"] for line in lines] == [g.timestamp for g in got]
    for i in (0, 1, 2, 5, 6, 7, len(sent) - 1):
        g = got[i]
        assert lines[i]["key"] == (None if g.key is None else g.key.decode())
        assert lines[i]["value"] == (None if g.value is None else g.value.decode())
        assert lines[i]["headers"] == [{"name": n, "value": v.decode()} for n, v in g.headers]

    # The Python Consumer, as a user reads them.
    with rustlog.Consumer(broker.address, topic_name, partitions=[0], auto_offset_reset="earliest") as c:
        polled: List[rustlog.ConsumerRecord] = []
        while len(polled) < len(sent):
            polled += c.poll(timeout=5.0)
    assert [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in polled] == \
        [(g.offset, g.timestamp, g.key, g.value, g.headers) for g in got]


@pytest.mark.parametrize("codec", CODECS)
def test_the_stored_batches_are_compressed(broker: Broker, client: rustlog.Client, topic_name: str,
                                           codec: str) -> None:
    client.create_topic(topic_name, 1)
    values = access_log(random.Random(SEED), 5000)
    with rustlog.Producer(broker.address, compression=f"{codec}:3", linger=3600, batch_size=256 * 1024) as p:
        futures = [p.send(topic_name, v) for v in values]
        p.flush(WAIT)
    assert [f.result() for f in futures] == list(range(len(values)))
    log_bytes = client.describe_topic(topic_name).partitions[0].size_bytes  # the segments' data
    value_bytes = sum(len(v) for v in values)
    assert log_bytes < value_bytes * 0.5, (log_bytes, value_bytes)
    batches = stored_batches(broker, topic_name)
    assert len(batches) >= 2 and all(b.codec == codec for b in batches)
    assert sum(b.record_count for b in batches) == len(values)

    # rustlog dump shows the codec of each batch and its records.
    seg = sorted((broker.data_dir / f"{topic_name}-0").glob("*.log"))[0]
    r = subprocess.run([str(bin_dir() / "rustlog"), "dump", str(seg), "--records", "--json"], capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    dump = json.loads(r.stdout)
    assert not dump["problems"]
    assert {b["compression"] for b in dump["batches"]} == {codec}
    dumped = [rec["value"] for b in dump["batches"] for rec in b["records"]]
    assert [v.replace('\\"', '"') for v in dumped] == [v.decode() for v in values]  # '"' shown as \"
    assert [g.value for g in fetch_all(client, topic_name)] == values


def produce_with_cli(broker: Broker, topic: str, lines: List[bytes], *args: str) -> None:
    run_cli(broker, "produce", topic, "-p", "0", "--batch-size", str(len(lines)), "--batch-bytes", "10485760",
            "--linger-ms", "60000", *args, input=b"".join(line + b"\n" for line in lines))


@pytest.mark.parametrize("codec", ["lz4", "lz4:9", "zstd", "zstd:-3", "zstd:19"])
def test_python_and_the_cpp_encoder_store_the_same_bytes(broker: Broker, client: rustlog.Client, topic_name: str,
                                                         codec: str) -> None:
    """The same records (broker time, keys, a header) compressed by the
    Python Producer and by ``rustlog produce --compression`` (the C++
    BatchBuilder): the stored batches carry the same codec and the same
    compressed block byte for byte, and each side's block decodes to the
    other's records section."""
    rng = random.Random(SEED)
    lines = [b"key-%d:" % (i % 13) + v for i, v in enumerate(access_log(rng, 400))]
    py_topic, cpp_topic = topic_name + "-py", topic_name + "-cpp"
    client.create_topic(py_topic, 1)
    client.create_topic(cpp_topic, 1)
    produce_with_cli(broker, cpp_topic, lines, "--key-separator", ":", "--header", "source=import",
                     "--compression", codec)
    with rustlog.Producer(broker.address, compression=codec, linger=3600, batch_size=10 << 20) as p:
        for line in lines:
            key, _, value = line.partition(b":")
            p.send(py_topic, value, key=key, headers=[("source", b"import")], partition=0)
        p.flush(WAIT)
    (py,), (cpp,) = stored_batches(broker, py_topic), stored_batches(broker, cpp_topic)
    assert py.codec == cpp.codec == parse_compression(codec).codec
    assert (py.record_count, py.last_offset_delta, py.length) == (cpp.record_count, cpp.last_offset_delta, cpp.length)
    assert py.section == cpp.section  # the compressed block, byte for byte
    assert py.records_section() == cpp.records_section()
    assert [(r.key, r.value, r.headers) for r in fetch_all(client, py_topic)] == \
        [(r.key, r.value, r.headers) for r in fetch_all(client, cpp_topic)]


def test_the_storage_md_example_batch_is_built_byte_for_byte() -> None:
    """docs/STORAGE.md, section 3: two records, uncompressed, appended at
    offset 42 (the broker rewrites the base offset and the CRC; done here by
    hand as the broker does)."""
    records = [_codec.encode_produce_record((1700000000000000, b"k", b"hello", [("h", b"1")])),
               _codec.encode_produce_record((1700000000000001, None, b"", []))]
    crc = _compression.crc32c_function()
    built = bytearray(_record_batch.build_batch(records, Compression(), bytes, crc))
    struct.pack_into(">Q", built, 0, 42)
    struct.pack_into(">I", built, 13, crc(bytes(built[17:]), crc(bytes(built[:13]), 0)))
    assert built.hex() == (
        "000000000000002a" "00000037" "01" "5ec88782" "0000" "00000001" "00060a24181e4000" "00060a24181e4001"
        "00000002" "10" "000000" "026b" "0a68656c6c6f" "0101680131" "06" "000201" "01" "00" "00")


def test_a_block_that_does_not_shrink_is_sent_plain(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    rng = random.Random(SEED)
    value = bytes(rng.getrandbits(8) for _ in range(2000))  # random bytes do not compress
    with rustlog.Producer(broker.address, compression="zstd") as p:
        assert p.send(topic_name, value).result(WAIT) == 0
        assert p.stats["produce_batch_requests"] == 1
    (b,) = stored_batches(broker, topic_name)
    assert b.codec == "none" and b.first_timestamp > 0
    assert [r.value for r in fetch_all(client, topic_name)] == [value]


@pytest.mark.parametrize("codec", CODECS)
def test_a_batch_corrupted_after_its_crc_is_refused_and_nothing_is_stored(
        broker: Broker, client: rustlog.Client, topic_name: str, codec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client.create_topic(topic_name, 1)
    real_build = _sender.build_batch

    def corrupt(*args: Any) -> bytes:
        b = bytearray(real_build(*args))
        assert b[18] & 7 == _compression.CODEC_BITS[codec]  # compressed: the flipped byte is in the block
        b[len(b) // 2 + 21] ^= 0x10
        return bytes(b)

    monkeypatch.setattr(_sender, "build_batch", corrupt)
    values = access_log(random.Random(SEED), 100)
    with rustlog.Producer(broker.address, compression=codec, linger=3600) as p:
        futures = [p.send(topic_name, v) for v in values]
        p.flush(WAIT)
        for f in futures:
            with pytest.raises(rustlog.InvalidRequest, match="CRC mismatch"):
                f.result()
        assert client.latest_offset(topic_name, 0) == 0
        assert fetch_all(client, topic_name) == []
        monkeypatch.setattr(_sender, "build_batch", real_build)
        good = p.send(topic_name, b"".join(values[:5]))  # the same producer, a good batch
        p.flush(WAIT)
        assert good.result() == 0
    assert [b.codec for b in stored_batches(broker, topic_name)] == [codec]


def test_compression_settings_are_spelled_as_in_the_cli() -> None:
    assert parse_compression("zstd:9") == Compression("zstd", 9)
    assert parse_compression("lz4") == Compression("lz4", 0)
    assert parse_compression("zstd:-7") == Compression("zstd", -7)
    assert parse_compression(None) == parse_compression("none") == Compression()
    assert [str(parse_compression(s)) for s in ("none", "lz4", "lz4:12", "zstd:0", "zstd:3")] == \
        ["none", "lz4", "lz4:12", "zstd", "zstd:3"]
    for bad in ("gzip", "zstd:23", "zstd:-8", "lz4:13", "lz4:-1", "none:1", "zstd:", "zstd:+3", "zstd: 3", "ZSTD"):
        with pytest.raises(rustlog.InvalidArgument, match="compression"):
            parse_compression(bad)
    with pytest.raises(rustlog.InvalidArgument, match="out of range for zstd"):
        Compression("zstd", 40)
    with pytest.raises(rustlog.InvalidArgument, match="expected none, lz4"):
        rustlog.Producer("127.0.0.1:1", compression="snappy")


_WITHOUT_MODULES = """
import sys
for name in sys.argv[2].split(","):
    sys.modules[name] = None  # import raises ImportError, as when the package is not installed
import rustlog
address, topic = sys.argv[1], sys.argv[3]
with rustlog.Producer(address) as p:
    print(p.send(topic, b"plain").result(60))
with rustlog.Client(address) as c:
    print(c.produce(topic, 0, [b"plain too"]).base_offset)
for codec in ("lz4", "zstd:3"):
    try:
        rustlog.Producer(address, compression=codec)
        print(codec, "made")
    except rustlog.InvalidArgument as e:
        print(codec, e)
"""


@pytest.mark.parametrize("blocked,expect", [
    ("lz4,lz4.frame,zstandard,crc32c", {"lz4": "python3-lz4", "zstd:3": "python3-zstandard"}),
    ("crc32c", {"lz4": "python3-crc32c", "zstd:3": "python3-crc32c"}),
])
def test_without_the_codec_modules_the_package_works_uncompressed(broker: Broker, client: rustlog.Client,
                                                                  topic_name: str, blocked: str,
                                                                  expect: Dict[str, str]) -> None:
    client.create_topic(topic_name, 1)
    r = subprocess.run([sys.executable, "-c", _WITHOUT_MODULES, broker.address, blocked, topic_name],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:2] == ["0", "1"]
    for line, (codec, package) in zip(lines[2:], expect.items()):
        assert line.startswith(codec + " ") and f"install the Debian package {package}" in line, line
    assert [b.codec for b in stored_batches(broker, topic_name)] == ["none", "none"]


OLD_BROKER = os.environ.get("RUSTLOG_PY_OLD_KAFKA_LITE")


@pytest.mark.skipif(not OLD_BROKER, reason="set RUSTLOG_PY_OLD_KAFKA_LITE to a kafka-lite built without ProduceBatch "
                    "(0x1A) to check the fallback to ProduceEx")
def test_a_broker_without_produce_batch_gets_uncompressed_produce_ex(tmp_path: Path) -> None:
    """Against a real older kafka-lite (its Handshake lacks 0x1A): the records
    go as ProduceEx and are stored uncompressed. Not run by default: it
    needs such a binary."""
    import shutil

    exe_dir = tmp_path / "bin"
    exe_dir.mkdir()
    shutil.copy(str(OLD_BROKER), exe_dir / "kafka-lite")
    old = os.environ.get("RUSTLOG_BIN_DIR")
    os.environ["RUSTLOG_BIN_DIR"] = str(exe_dir)
    b = Broker()
    try:
        b.start()
    finally:
        if old is None:
            del os.environ["RUSTLOG_BIN_DIR"]
        else:
            os.environ["RUSTLOG_BIN_DIR"] = old
    try:
        with rustlog.Client(b.address) as c:
            assert _codec.PRODUCE_BATCH not in c.server.supported_types
            c.create_topic("old", 1)
            values = access_log(random.Random(SEED), 300)
            with rustlog.Producer(b.address, compression="zstd", linger=3600) as p:
                futures = [p.send("old", v, timestamp=i if i % 2 else -1) for i, v in enumerate(values)]
                p.flush(WAIT)
                assert p.stats["produce_batch_requests"] == 0 and p.stats["requests"] == len(values)
            assert [f.result() for f in futures] == list(range(len(values)))
            assert [r.value for r in fetch_all(c, "old")] == values
        assert {s.codec for s in stored_batches(b, "old")} == {"none"}
    finally:
        b.kill9()
        b.cleanup()
