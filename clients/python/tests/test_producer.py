"""rustlog.Producer against a real kafka-lite: partitioning, batching, linger,
pipelining, futures, flush/close, and its error cases."""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Callable, Dict, Iterator, List

import pytest

import rustlog
from conftest import Broker

WAIT = 60.0  # generous: the machine is shared


def fetch_all(client: rustlog.Client, topic: str, partition: int) -> List[rustlog.Record]:
    out: List[rustlog.Record] = []
    offset = 0
    while offset < client.latest_offset(topic, partition):
        f = client.fetch(topic, partition, offset)
        out += f.records
        offset = f.next_offset
    return out


def test_send_returns_a_future_of_the_offset(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with rustlog.Producer(broker.address) as p:
        f = p.send(topic_name, b"hello", key=b"k", headers=[("h", b"v")])
        assert isinstance(f, rustlog.SendFuture) and (f.topic, f.partition) == (topic_name, 0)
        assert f.result(WAIT) == 0
        assert isinstance(f.timestamp, int) and f.timestamp > 0
        g = p.send(topic_name, None, key=b"k", timestamp=42)
        assert g.result(WAIT) == 1 and g.timestamp == 42
    recs = fetch_all(client, topic_name, 0)
    assert [(r.key, r.value, r.headers, r.timestamp) for r in recs] == [
        (b"k", b"hello", [("h", b"v")], f.timestamp),
        (b"k", None, [], 42),
    ]


def test_keys_go_to_the_fnv1a_partition_and_unkeyed_records_to_partition_0(broker: Broker, client: rustlog.Client,
                                                                           topic_name: str) -> None:
    client.create_topic(topic_name, 5)
    keys = [f"customer-{i}".encode() for i in range(40)]
    with rustlog.Producer(broker.address) as p:
        keyed = [p.send(topic_name, b"v", key=k) for k in keys]
        unkeyed = [p.send(topic_name, b"u") for _ in range(3)]
        explicit = p.send(topic_name, b"x", key=b"customer-1", partition=4)
        p.flush()
    for k, f in zip(keys, keyed):
        assert f.partition == rustlog.partition_for_key(k, 5)
    assert {f.partition for f in keyed} == {0, 1, 2, 3, 4}  # the 40 keys spread
    assert all(f.partition == 0 for f in unkeyed)
    assert explicit.partition == 4
    for part in range(5):
        stored = [r.key for r in fetch_all(client, topic_name, part)]
        expected = [k for k, f in zip(keys, keyed) if f.partition == part]
        if part == 0:
            expected += [None] * 3
        if part == 4:
            expected.append(b"customer-1")
        assert stored == expected  # in send order within the partition


def test_records_batch_per_partition_until_batch_size(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 2)
    with rustlog.Producer(broker.address, linger=3600, batch_size=1 << 20) as p:
        fs = [p.send(topic_name, b"%d" % i, partition=i % 2) for i in range(100)]
        assert p.stats["requests"] == 0 and p.stats["queued"] == 100  # lingering
        p.flush()
        assert p.stats["requests"] == 2  # one batch per partition
        assert [f.result() for f in fs] == [i // 2 for i in range(100)]
        assert len({f.timestamp for f in fs if f.partition == 0}) == 1  # one append, one time
    with rustlog.Producer(broker.address, linger=3600, batch_size=1) as p:
        fs = [p.send(topic_name, b"x", partition=0) for _ in range(5)]
        for f in fs:
            f.result(WAIT)  # full batches go without waiting for linger or flush
        assert p.stats["requests"] == 5


def test_linger_sends_a_partial_batch_without_flush(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with rustlog.Producer(broker.address, linger=0.05, batch_size=1 << 20) as p:
        f = p.send(topic_name, b"soon")
        assert f.result(WAIT) == 0


def test_several_requests_in_flight_but_never_more_than_max(broker: Broker, client: rustlog.Client,
                                                           topic_name: str) -> None:
    client.create_topic(topic_name, 8)
    with rustlog.Producer(broker.address, linger=3600, max_in_flight=3) as p:
        fs = [p.send(topic_name, b"v", partition=i % 8) for i in range(80)]
        p.flush()  # seals eight batches at once; three go out before any answer is read
        assert p.stats == {"requests": 8, "produce_batch_requests": 0, "max_in_flight": 3, "queued": 0,
                           "reconnects": 0}
    assert sorted(f.result() for f in fs if f.partition == 3) == list(range(10))


def test_concurrent_senders_each_get_their_own_offset(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    futures: Dict[int, List[rustlog.SendFuture]] = {}
    with rustlog.Producer(broker.address) as p:
        def worker(n: int) -> None:
            futures[n] = [p.send(topic_name, b"%d-%d" % (n, i)) for i in range(300)]

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    offsets = sorted(f.result() for fs in futures.values() for f in fs)
    assert offsets == list(range(1200))
    stored = {r.offset: r.value for r in fetch_all(client, topic_name, 0)}
    for n, fs in futures.items():
        assert [stored[f.result()] for f in fs] == [b"%d-%d" % (n, i) for i in range(300)]


def test_flush_waits_only_for_records_sent_before_it(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    stop = threading.Event()
    with rustlog.Producer(broker.address, linger=0.001) as p:
        def busy() -> None:
            while not stop.is_set():
                p.send(topic_name, b"background")

        t = threading.Thread(target=busy)
        t.start()
        try:
            mine = [p.send(topic_name, b"mine") for _ in range(100)]
            p.flush(timeout=WAIT)  # returns although the other thread never stops sending
            assert all(f.done() for f in mine)
        finally:
            stop.set()
            t.join()


def test_send_blocks_while_the_buffer_is_full_then_completes(broker: Broker, client: rustlog.Client,
                                                              topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with rustlog.Producer(broker.address, buffer_memory=2000, batch_size=500) as p:
        fs = [p.send(topic_name, b"x" * 100) for _ in range(200)]
    assert [f.result() for f in fs] == list(range(200))


def test_done_callbacks_run(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    seen: List[int] = []
    done = threading.Event()
    with rustlog.Producer(broker.address) as p:
        f = p.send(topic_name, b"v")
        f.add_done_callback(lambda fut: (seen.append(fut.result()), done.set()))
        assert done.wait(WAIT)
    assert seen == [0]


def test_send_errors_raised_at_once(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with rustlog.Producer(broker.address) as p:
        with pytest.raises(rustlog.TopicNotFound):
            p.send(topic_name + "-missing", b"v", key=b"k")  # the partitioner needs the partition count
        with pytest.raises(rustlog.TooLarge):
            p.send(topic_name, b"x" * (11 * 1024 * 1024))
        with pytest.raises(rustlog.InvalidArgument):
            p.send(topic_name, b"v", headers={"h": None})
        with pytest.raises(rustlog.InvalidArgument):
            p.send(topic_name, b"v", timestamp=-7)
        with pytest.raises(rustlog.InvalidArgument):
            p.send(topic_name, b"v", partition=-1)
        assert p.send(topic_name, b"still fine").result(WAIT) == 0
    with pytest.raises(rustlog.InvalidArgument):
        rustlog.Producer(broker.address, max_in_flight=0)


def test_broker_errors_fail_only_their_batch(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with rustlog.Producer(broker.address) as p:
        bad_topic = p.send(topic_name + "-missing", b"v", partition=0)
        bad_part = p.send(topic_name, b"v", partition=3)
        good = p.send(topic_name, b"v")
        p.flush()
        with pytest.raises(rustlog.TopicNotFound):
            bad_topic.result()
        with pytest.raises(rustlog.PartitionNotFound) as e:
            bad_part.result()
        assert e.value.code == 405 and f"{topic_name}/3" in e.value.message
        assert good.result() == 0


def test_close_flushes_and_is_final(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    p = rustlog.Producer(broker.address, linger=3600)
    f = p.send(topic_name, b"v")
    p.close()
    assert f.result(0) == 0
    p.close()  # idempotent
    with pytest.raises(rustlog.InvalidArgument, match="closed"):
        p.send(topic_name, b"v")


@pytest.fixture
def mute_broker() -> Iterator[str]:
    """Answers the Handshake, then reads requests and never answers them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()
    conns: List[socket.socket] = []

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            conns.append(conn)
            n = struct.unpack(">I", conn.recv(4))[0]
            conn.recv(n)
            version = b"mute/1"
            body = bytes([0x10]) + struct.pack(">H", len(version)) + version + struct.pack(">II", 1 << 20, 0)
            conn.sendall(struct.pack(">I", len(body)) + body)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield "127.0.0.1:%d" % server.getsockname()[1]
    stop.set()
    t.join()
    for c in conns:
        c.close()
    server.close()


def test_request_timeout_fails_the_futures_with_a_transport_error(mute_broker: str) -> None:
    p = rustlog.Producer(mute_broker, request_timeout=0.3, linger=0)
    f = p.send("t", b"v")
    with pytest.raises(rustlog.RequestTimeout):
        f.result(WAIT)
    g = p.send("t", b"w")  # a new connection is opened for the next batch
    with pytest.raises(rustlog.RequestTimeout):
        g.result(WAIT)
    p.send("t", b"x")
    with pytest.raises(rustlog.TimedOut) as e:
        p.flush(timeout=0.05)  # a wait of the caller's, not a failure of the record
    assert (e.value.code, e.value.source) == (408, "client") and isinstance(e.value, TimeoutError)
    p.close()


def test_a_dead_broker_fails_the_futures_with_a_transport_error(own_broker: Broker, topic_name: str) -> None:
    b = own_broker
    with rustlog.Client(b.address) as c:
        c.create_topic(topic_name, 1)
    p = rustlog.Producer(b.address, delivery_timeout=0.5, reconnect_backoff=0.05)
    assert p.send(topic_name, b"v").result(WAIT) == 0
    b.kill9()
    wait_until_disconnected(p)
    f = p.send(topic_name, b"lost")
    with pytest.raises(rustlog.TransportError, match="not sent within delivery_timeout") as e:
        f.result(WAIT)
    assert not isinstance(e.value, rustlog.BrokerError)
    assert "cannot connect" in e.value.message
    p.close()


def wait_until_disconnected(p: rustlog.Producer) -> None:
    """The sender notices a connection the broker closed while idle."""
    deadline = time.monotonic() + WAIT
    while p.connected and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not p.connected


def test_batches_wait_for_a_broker_that_comes_back(own_broker: Broker, topic_name: str) -> None:
    b = own_broker
    with rustlog.Client(b.address) as c:
        c.create_topic(topic_name, 1)
    with rustlog.Producer(b.address, reconnect_backoff=0.05) as p:
        assert p.send(topic_name, b"before").result(WAIT) == 0
        port = b.port
        assert b.stop() == 0
        wait_until_disconnected(p)
        f = p.send(topic_name, b"while down")  # not written: no connection
        time.sleep(0.2)
        assert not f.done()
        b.start(port=port)
        assert f.result(WAIT) == 1
        assert p.stats["reconnects"] >= 1


def test_close_with_a_timeout_gives_up_on_unanswered_records(mute_broker: str) -> None:
    p = rustlog.Producer(mute_broker, request_timeout=None, linger=0)
    f = p.send("t", b"v")
    with pytest.raises(rustlog.TimedOut):
        p.close(timeout=0.2)
    with pytest.raises(rustlog.TransportError, match="closed before"):
        f.result(WAIT)
    with pytest.raises(rustlog.InvalidArgument, match="closed"):
        p.send("t", b"w")


def test_the_first_batch_after_a_broker_restart_goes_through(own_broker: Broker, topic_name: str) -> None:
    b = own_broker
    with rustlog.Client(b.address) as c:
        c.create_topic(topic_name, 1)
    with rustlog.Producer(b.address) as p:
        assert p.send(topic_name, b"before").result(WAIT) == 0
        port = b.port
        assert b.stop() == 0
        b.start(port=port)
        wait_until_disconnected(p)
        assert p.send(topic_name, b"after").result(WAIT) == 1


class HeldBroker:
    """Answers the Handshake, then holds every request until ``release`` is
    set and answers it with Error 405: a peer whose answers the test times."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.address = "127.0.0.1:%d" % self.server.getsockname()[1]
        self.received = threading.Event()
        self.release = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _read_frame(conn: socket.socket) -> bytes:
        def exactly(n: int) -> bytes:
            buf = b""
            while len(buf) < n:
                chunk = conn.recv(n - len(buf))
                if not chunk:
                    raise EOFError
                buf += chunk
            return buf

        return exactly(struct.unpack(">I", exactly(4))[0])

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        try:
            self._read_frame(conn)
            body = bytes([0x10]) + struct.pack(">H", 4) + b"hb/1" + struct.pack(">II", 1 << 20, 0)
            conn.sendall(struct.pack(">I", len(body)) + body)
            while not self.stop.is_set():
                self._read_frame(conn)
                self.received.set()
                self.release.wait()
                msg = b"no partition"
                err = bytes([0xFE]) + struct.pack(">HH", 405, len(msg)) + msg
                conn.sendall(struct.pack(">I", len(err)) + err)
        except (EOFError, OSError):
            pass
        finally:
            conn.close()


@pytest.fixture
def held_broker() -> Iterator[HeldBroker]:
    b = HeldBroker()
    yield b
    b.stop.set()
    b.release.set()
    b.server.close()
    b.thread.join(WAIT)


def test_a_failed_batch_fails_the_later_unsent_batches_of_its_partition(held_broker: HeldBroker) -> None:
    p = rustlog.Producer(held_broker.address, batch_size=1, max_in_flight=1, linger=3600)
    first = p.send("t", b"1", partition=0)
    assert held_broker.received.wait(WAIT)  # on the wire, unanswered; the one slot is taken
    later = [p.send("t", b"2", partition=0), p.send("t", b"3", partition=0)]
    other = p.send("t", b"x", partition=1)
    held_broker.release.set()
    with pytest.raises(rustlog.PartitionNotFound) as e:
        first.result(WAIT)
    assert e.value.message == "produce to t/0: no partition"
    for f in later:  # never written, so that t/0 keeps send order
        with pytest.raises(rustlog.PartitionNotFound, match="not sent: an earlier batch of t/0 failed"):
            f.result(WAIT)
    with pytest.raises(rustlog.PartitionNotFound) as e2:
        other.result(WAIT)  # another partition: written and answered on its own
    assert "not sent" not in e2.value.message
    assert p.stats["requests"] == 2
    p.close()


def test_batches_are_split_to_fit_the_brokers_frame_limit(make_broker: Callable[..., Broker], topic_name: str) -> None:
    b = make_broker(["--max-frame-bytes", "4096"])
    with rustlog.Client(b.address) as c:
        c.create_topic(topic_name, 1)
    with rustlog.Producer(b.address, linger=3600, batch_size=1 << 20) as p:
        fs = [p.send(topic_name, bytes([i]) * 1000) for i in range(20)]
        p.flush()
        assert [f.result() for f in fs] == list(range(20))  # none refused with 413
        assert p.stats["requests"] >= 5  # 20 KB through frames of 4 KiB
        with pytest.raises(rustlog.TooLarge):
            p.send(topic_name, b"x" * 4096)  # can never fit
    with rustlog.Consumer(b.address, topic_name, consumer_timeout=0.5) as consumer:
        assert [r.value for r in consumer] == [bytes([i]) * 1000 for i in range(20)]


def test_a_large_record_round_trips(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    big = bytes(range(256)) * (3 * 4096)  # 3 MiB
    with rustlog.Producer(broker.address) as p:
        assert p.send(topic_name, big, key=b"big").result(WAIT) == 0
    with rustlog.Consumer(broker.address, topic_name, consumer_timeout=0.5) as c:
        got = list(c)
    assert len(got) == 1 and got[0].value == big and got[0].key == b"big"


def test_send_raises_buffer_full_after_max_block(mute_broker: str) -> None:
    p = rustlog.Producer(mute_broker, request_timeout=None, linger=0, buffer_memory=1000, max_block=0.1)
    p.send("t", b"x" * 600)  # held: the broker never answers
    with pytest.raises(rustlog.BufferFull) as e:
        p.send("t", b"y" * 600)
    assert (e.value.code, e.value.source) == (429, "client") and "buffer_memory" in e.value.message
    with pytest.raises(rustlog.InvalidArgument):
        rustlog.Producer(mute_broker, max_block=-1)
    with pytest.raises(rustlog.TimedOut):
        p.close(timeout=0.1)
