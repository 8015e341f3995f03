"""rustlog.Client against a real kafka-lite: every call and its error cases."""

from __future__ import annotations

import socket
import time
from typing import Callable, Iterator

import pytest

import rustlog
from rustlog import ProducerRecord as PR
from conftest import Broker, produced_later


def test_connect_handshakes_and_pings(broker: Broker) -> None:
    with rustlog.Client(broker.address) as c:
        assert c.connected
        assert c.server.version.startswith("kafka-lite")
        assert c.server.max_frame_bytes == 10 * 1024 * 1024
        assert {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xFF} <= set(c.server.supported_types)
        assert c.ping() >= 0
        assert "rustlog.Client" in repr(c)
    assert not c.connected


def test_address_defaults_to_the_environment(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUSTLOG_BROKER", broker.address)
    with rustlog.Client() as c:
        assert c.address == broker.address
        c.ping()


def test_without_handshake_the_server_info_is_empty(broker: Broker) -> None:
    with rustlog.Client(broker.address, handshake=False) as c:
        assert c.server.version == ""
        c.ping()


def test_closed_client_raises_transport_error_until_reconnect(broker: Broker) -> None:
    c = rustlog.Client(broker.address)
    c.close()
    with pytest.raises(rustlog.TransportError, match="not connected"):
        c.ping()
    c.reconnect()
    c.ping()
    c.close()


def test_topic_admin_round_trip(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 3, {"cleanup.policy": "compact", "retention.ms": 3600000, "segment.bytes": "1048576"})
    assert rustlog.TopicInfo(topic_name, 3) in client.list_topics()
    assert client.partition_count(topic_name) == 3
    d = client.describe_topic(topic_name)
    assert d.name == topic_name and d.partition_count == 3
    assert d.config["cleanup.policy"] == "compact"
    assert d.config["retention.ms"] == "3600000"
    assert d.config["segment.bytes"] == "1048576"
    assert "flush" in d.config  # defaults are included
    assert [p.partition for p in d.partitions] == [0, 1, 2]
    assert all(p.high_watermark == 0 and p.log_start_offset == 0 for p in d.partitions)
    client.delete_topic(topic_name)
    assert topic_name not in [t.name for t in client.list_topics()]
    with pytest.raises(rustlog.TopicNotFound):
        client.describe_topic(topic_name)


def test_create_topic_defaults_to_one_partition_and_takes_config_pairs(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, config=[("retention.bytes", 1 << 20)])
    d = client.describe_topic(topic_name)
    assert d.partition_count == 1 and d.config["retention.bytes"] == str(1 << 20)


def test_create_topic_errors(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with pytest.raises(rustlog.TopicExists) as e:
        client.create_topic(topic_name, 1)
    assert e.value.code == 409 and e.value.source == "broker" and topic_name in e.value.message
    with pytest.raises(rustlog.InvalidRequest) as e2:
        client.create_topic(topic_name + "-x", 1, {"no.such.key": "1"})
    assert e2.value.code == 400 and "no.such.key" in e2.value.message
    with pytest.raises(rustlog.InvalidRequest):
        client.create_topic(topic_name + "-y", 1, {"cleanup.policy": "sometimes"})
    with pytest.raises(rustlog.InvalidRequest):
        client.create_topic(topic_name + "-z", 0)
    with pytest.raises(rustlog.InvalidRequest):
        client.create_topic("bad/name", 1)
    with pytest.raises(rustlog.TopicNotFound):
        client.delete_topic(topic_name + "-never")


def test_produce_and_fetch_keep_keys_values_headers_and_null_vs_empty(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    records = [
        PR(b"v1", key=b"k1", headers=[("h", b"x"), ("h", b""), ("ünï", b"\x00\xff")]),
        PR(None, key=b"k1"),  # tombstone
        PR(b"", key=b""),  # empty, not null
        PR("text as utf-8 ✓", key="clé"),
        b"\x00\x01binary\xff",
        None,
        bytearray(b"ba"),
        memoryview(b"mv"),
    ]
    r = client.produce(topic_name, 0, records)
    assert (r.topic, r.partition, r.base_offset, r.record_count, r.next_offset) == (topic_name, 0, 0, 8, 8)
    f = client.fetch(topic_name, 0, 0)
    assert (f.high_watermark, f.log_start_offset, f.next_offset) == (8, 0, 8)
    got = [(x.offset, x.key, x.value, x.headers) for x in f.records]
    assert got == [
        (0, b"k1", b"v1", [("h", b"x"), ("h", b""), ("ünï", b"\x00\xff")]),
        (1, b"k1", None, []),
        (2, b"", b"", []),
        (3, "clé".encode(), "text as utf-8 ✓".encode(), []),
        (4, None, b"\x00\x01binary\xff", []),
        (5, None, None, []),
        (6, None, b"ba", []),
        (7, None, b"mv", []),
    ]
    assert all(x.timestamp == r.append_time for x in f.records)


def test_timestamps_record_then_batch_then_broker_time(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    before = int(time.time() * 1e6)
    a = client.produce(topic_name, 0, [PR(b"own", timestamp=1_000_000), PR(b"default")])  # broker time
    b = client.produce(topic_name, 0, [PR(b"own", timestamp=2_000_000), PR(b"batch")], timestamp=5_000_000)
    recs = client.fetch(topic_name, 0, 0).records
    assert [x.timestamp for x in recs] == [1_000_000, a.append_time, 2_000_000, 5_000_000]
    assert a.append_time >= before - 60_000_000  # the broker's clock, not ours, but close to it
    assert recs[0].datetime.isoformat() == "1970-01-01T00:00:01+00:00"
    assert b.base_offset == 2


def test_produce_argument_errors(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with pytest.raises(rustlog.InvalidArgument, match="no records"):
        client.produce(topic_name, 0, [])
    with pytest.raises(rustlog.InvalidArgument, match="timestamp"):
        client.produce(topic_name, 0, [PR(b"v", timestamp=-2)])
    with pytest.raises(rustlog.InvalidArgument, match="header"):
        client.produce(topic_name, 0, [PR(b"v", headers=[("h", None)])])
    with pytest.raises(rustlog.InvalidArgument, match="bytes, str or None"):
        client.produce(topic_name, 0, [12345])  # type: ignore[list-item]
    with pytest.raises(rustlog.InvalidArgument, match="NUL"):
        client.produce(topic_name, 0, [PR(b"v", headers=[("a\x00b", b"")])])
    assert client.latest_offset(topic_name, 0) == 0  # nothing was sent
    client.ping()  # and the connection is still usable


def test_produce_and_fetch_broker_errors(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with pytest.raises(rustlog.TopicNotFound) as e:
        client.produce(topic_name + "-missing", 0, [b"v"])
    assert e.value.code == 404
    with pytest.raises(rustlog.PartitionNotFound) as e2:
        client.produce(topic_name, 3, [b"v"])
    assert e2.value.code == 405
    client.produce(topic_name, 0, [b"a", b"b"])
    with pytest.raises(rustlog.OffsetOutOfRange) as e3:
        client.fetch(topic_name, 0, 3)
    assert e3.value.code == 416 and "0..2" in e3.value.message
    assert client.fetch(topic_name, 0, 2).records == []  # at the high watermark: nothing yet, no error
    with pytest.raises(rustlog.PartitionNotFound):
        client.fetch(topic_name, 1, 0)
    with pytest.raises(rustlog.TopicNotFound):
        client.partition_count(topic_name + "-missing")
    client.ping()  # broker errors leave the connection usable


def test_fetch_max_bytes_is_soft_and_next_offset_continues(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    client.produce(topic_name, 0, [bytes([i]) * 1000 for i in range(50)])
    seen = []
    offset = 0
    while offset < 50:
        f = client.fetch(topic_name, 0, offset, max_bytes=1)
        assert f.records, "at least one record comes back when one exists"
        seen += [x.offset for x in f.records]
        offset = f.next_offset
    assert seen == list(range(50))


def test_fetch_long_polls_until_a_record_arrives(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with produced_later(broker, topic_name, 0, b"late"):
        f = client.fetch(topic_name, 0, 0, max_wait=30.0)
    assert [x.value for x in f.records] == [b"late"]


def test_idle_long_poll_answers_empty_after_the_wait(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    t0 = time.monotonic()
    f = client.fetch(topic_name, 0, 0, max_wait=0.3)
    assert f.records == [] and f.next_offset == 0
    assert time.monotonic() - t0 >= 0.25  # the broker held it
    with pytest.raises(rustlog.InvalidArgument):
        client.fetch(topic_name, 0, 0, max_wait=-1)


def test_list_offsets_earliest_latest_and_by_time(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    assert client.earliest_offset(topic_name, 0) == 0 and client.latest_offset(topic_name, 0) == 0
    client.produce(topic_name, 0, [PR(b"a", timestamp=100), PR(b"b", timestamp=200), PR(b"c", timestamp=300)])
    assert client.list_offsets(topic_name, 0, rustlog.EARLIEST) == rustlog.OffsetLookup(0, True)
    assert client.list_offsets(topic_name, 0, rustlog.LATEST).offset == 3
    assert client.offset_for_time(topic_name, 0, 150) == rustlog.OffsetLookup(1, True)
    assert client.offset_for_time(topic_name, 0, 200) == rustlog.OffsetLookup(1, True)
    assert client.offset_for_time(topic_name, 0, 301) == rustlog.OffsetLookup(3, False)
    with pytest.raises(rustlog.InvalidArgument):
        client.offset_for_time(topic_name, 0, -1)
    with pytest.raises(rustlog.InvalidArgument):
        client.list_offsets(topic_name, 0, -3)
    with pytest.raises(rustlog.TopicNotFound):
        client.latest_offset(topic_name + "-missing", 0)
    with pytest.raises(rustlog.PartitionNotFound):
        client.earliest_offset(topic_name, 9)


def test_commit_and_fetch_committed_offsets_and_groups(client: rustlog.Client, topic_name: str) -> None:
    group = topic_name + "-g"
    client.create_topic(topic_name, 2)
    client.produce(topic_name, 0, [b"a", b"b", b"c"])
    assert client.committed_offset(group, topic_name, 0) is None
    client.commit_offset(group, topic_name, 0, 2)
    assert client.committed_offset(group, topic_name, 0) == 2
    assert client.committed_offset(group, topic_name, 1) is None
    assert group in client.list_groups()
    assert client.describe_group(group) == [rustlog.GroupOffset(topic_name, 0, 2, 3, 1)]
    client.commit_offset(group, topic_name, 0, 3)
    assert client.describe_group(group)[0].lag == 0
    with pytest.raises(rustlog.OffsetOutOfRange):
        client.commit_offset(group, topic_name, 0, 4)  # beyond the high watermark
    with pytest.raises(rustlog.TopicNotFound):
        client.commit_offset(group, topic_name + "-missing", 0, 0)
    with pytest.raises(rustlog.InvalidArgument):
        client.commit_offset("", topic_name, 0, 0)
    with pytest.raises(rustlog.InvalidArgument):
        client.committed_offset("", topic_name, 0)
    client.delete_group(group)
    assert group not in client.list_groups()
    assert client.committed_offset(group, topic_name, 0) is None


def test_unknown_groups_are_broker_errors(client: rustlog.Client, topic_name: str) -> None:
    for call in (client.describe_group, client.delete_group):
        with pytest.raises(rustlog.GroupNotFound) as e:
            call(topic_name + "-no-such-group")
        assert e.value.code == 406 and e.value.source == "broker"


def test_pipelined_produces_are_answered_in_order(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 2)
    client.send_produce(topic_name, 0, [b"a", b"b"])
    client.send_produce(topic_name, 1, [b"c"])
    client.send_produce(topic_name, 7, [b"d"])  # answered with 405
    client.send_produce(topic_name, 0, [b"e"])
    assert client.in_flight == 4
    with pytest.raises(rustlog.InvalidArgument, match="still unread"):
        client.ping()
    assert client.receive_produce().base_offset == 0
    r = client.receive_produce()
    assert (r.partition, r.base_offset) == (1, 0)
    with pytest.raises(rustlog.PartitionNotFound, match=f"produce to {topic_name}/7"):
        client.receive_produce()
    assert client.receive_produce().base_offset == 2
    with pytest.raises(rustlog.InvalidArgument, match="nothing in flight"):
        client.receive_produce()
    client.ping()


def test_metrics_text_is_prometheus(client: rustlog.Client) -> None:
    text = client.metrics_text()
    assert "# TYPE rustlog_connections_open gauge" in text
    assert "rustlog_build_info" in text


def test_a_record_above_the_frame_limit_is_refused_before_sending(client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with pytest.raises(rustlog.TooLarge) as e:
        client.produce(topic_name, 0, [b"x" * (client.server.max_frame_bytes + 1)])
    assert e.value.source == "client" and e.value.code == 413
    client.ping()


def test_broker_413_is_a_broker_error_and_closes_the_connection(make_broker: Callable[..., Broker]) -> None:
    small_frame_broker = make_broker(["--max-frame-bytes", "4096"])
    with rustlog.Client(small_frame_broker.address) as c:
        assert c.server.max_frame_bytes == 4096  # learned from the Handshake
        c.create_topic("big", 1)
    with rustlog.Client(small_frame_broker.address, handshake=False) as c:
        with pytest.raises(rustlog.TooLarge) as e:
            c.produce("big", 0, [b"x" * 8000])
        # A legacy connection's framing error carries the v0 code 15 (FrameTooLarge).
        assert e.value.source == "broker" and e.value.code == 15 and e.value.name == "TooLarge"
        with pytest.raises(rustlog.TransportError):
            c.ping()  # the broker closed the connection after the framing error
        c.reconnect()
        c.ping()


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused_is_a_transport_error() -> None:
    port = _free_port()
    with pytest.raises(rustlog.TransportError) as e:
        rustlog.Client(f"127.0.0.1:{port}")
    assert not isinstance(e.value, rustlog.BrokerError)
    assert e.value.source == "transport" and f"127.0.0.1:{port}" in e.value.message
    assert "is the broker running" in e.value.message


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """Listens and accepts, and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield s
    s.close()


def test_request_timeout_closes_the_connection(silent_server: socket.socket) -> None:
    address = "127.0.0.1:%d" % silent_server.getsockname()[1]
    with pytest.raises(rustlog.RequestTimeout):
        rustlog.Client(address, request_timeout=0.2)  # the Handshake gets no answer
    c = rustlog.Client(address, request_timeout=0.2, handshake=False)
    with pytest.raises(rustlog.RequestTimeout) as e:
        c.ping()
    assert isinstance(e.value, TimeoutError) and isinstance(e.value, rustlog.TransportError)
    assert not c.connected  # a late answer must not be taken for the next request's
    with pytest.raises(rustlog.TransportError, match="not connected"):
        c.ping()


def test_a_peer_that_closes_is_a_transport_error(silent_server: socket.socket) -> None:
    address = "127.0.0.1:%d" % silent_server.getsockname()[1]
    c = rustlog.Client(address, handshake=False)
    conn, _ = silent_server.accept()
    conn.close()
    with pytest.raises(rustlog.TransportError, match="closed the connection"):
        c.ping()


def test_invalid_timeouts_are_refused() -> None:
    with pytest.raises(rustlog.InvalidArgument):
        rustlog.Client("127.0.0.1:1", request_timeout=-1)
