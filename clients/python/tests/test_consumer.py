"""rustlog.Consumer against a real kafka-lite: partitions, groups and their
committed offsets, auto_offset_reset, iteration, commit every N / explicit,
seeking, and its error cases."""

from __future__ import annotations

from typing import List

import pytest

import rustlog
from rustlog import ProducerRecord as PR
from conftest import Broker, produced_later

IDLE = 0.5  # consumer_timeout: iteration ends after this long without a record


def fill(client: rustlog.Client, topic: str, partitions: int, per_partition: int) -> None:
    client.create_topic(topic, partitions)
    for p in range(partitions):
        client.produce(topic, p, [PR(b"p%d-%d" % (p, i), key=b"k%d" % i, headers=[("n", b"%d" % i)])
                                  for i in range(per_partition)])


def test_iterates_every_partition_in_order_with_all_fields(broker: Broker, client: rustlog.Client,
                                                           topic_name: str) -> None:
    fill(client, topic_name, 3, 20)
    with rustlog.Consumer(broker.address, topic_name, consumer_timeout=IDLE) as c:
        assert c.partitions == [0, 1, 2]
        records = list(c)
    assert len(records) == 60
    for p in range(3):
        mine = [r for r in records if r.partition == p]
        assert [r.offset for r in mine] == list(range(20))
        assert [r.value for r in mine] == [b"p%d-%d" % (p, i) for i in range(20)]
        assert [r.key for r in mine] == [b"k%d" % i for i in range(20)]
        assert [r.headers for r in mine] == [[("n", b"%d" % i)] for i in range(20)]
    r = records[0]
    assert isinstance(r, rustlog.ConsumerRecord) and r.topic == topic_name and r.timestamp > 0


def test_reads_only_the_given_partitions(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    fill(client, topic_name, 3, 5)
    with rustlog.Consumer(broker.address, topic_name, partitions=[2, 0, 2], consumer_timeout=IDLE) as c:
        assert c.partitions == [0, 2]
        assert sorted({r.partition for r in c}) == [0, 2]


def test_a_group_resumes_at_its_committed_offset(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    fill(client, topic_name, 2, 10)
    group = topic_name + "-g"
    with rustlog.Consumer(broker.address, topic_name, group=group) as c:
        got = c.poll(timeout=10, max_records=7)
        assert 0 < len(got) <= 7
        c.commit()
        first = {(r.partition, r.offset) for r in got}
    committed = {g.partition: g.committed for g in client.describe_group(group)}
    for p in (0, 1):
        assert committed.get(p, 0) == len([1 for q, _ in first if q == p])
    with rustlog.Consumer(broker.address, topic_name, group=group, consumer_timeout=IDLE) as c:
        rest = {(r.partition, r.offset) for r in c}
        c.commit()
    assert first.isdisjoint(rest) and len(first | rest) == 20  # nothing skipped, nothing repeated
    assert all(g.lag == 0 and g.committed == 10 for g in client.describe_group(group))


def test_commit_every_n_commits_before_handing_out_the_next_record(broker: Broker, client: rustlog.Client,
                                                                   topic_name: str) -> None:
    fill(client, topic_name, 1, 10)
    group = topic_name + "-g"
    c = rustlog.Consumer(broker.address, topic_name, group=group, commit_every=3)
    it = iter(c)
    offsets = [next(it).offset for _ in range(7)]
    assert offsets == list(range(7))
    # Commits happened on asking for the 4th and the 7th record: up to the 6th.
    assert client.committed_offset(group, topic_name, 0) == 6
    assert c.uncommitted == 1
    c.close()  # commits the rest
    assert client.committed_offset(group, topic_name, 0) == 7
    with pytest.raises(rustlog.InvalidArgument, match="closed"):
        next(it)


def test_commit_inside_the_loop_covers_the_current_record(broker: Broker, client: rustlog.Client,
                                                          topic_name: str) -> None:
    fill(client, topic_name, 1, 5)
    group = topic_name + "-g"
    with rustlog.Consumer(broker.address, topic_name, group=group) as c:
        for r in c:
            if r.offset == 2:
                c.commit()
                break
    assert client.committed_offset(group, topic_name, 0) == 3


def test_auto_offset_reset_latest_reads_only_new_records(broker: Broker, client: rustlog.Client,
                                                         topic_name: str) -> None:
    fill(client, topic_name, 1, 5)
    with rustlog.Consumer(broker.address, topic_name, auto_offset_reset="latest", consumer_timeout=IDLE) as c:
        c.resolve_positions()
        assert c.position(0) == 5
        client.produce(topic_name, 0, [b"new"])
        assert [(r.offset, r.value) for r in c] == [(5, b"new")]


def test_auto_offset_reset_none_needs_a_committed_offset(broker: Broker, client: rustlog.Client,
                                                         topic_name: str) -> None:
    fill(client, topic_name, 1, 5)
    group = topic_name + "-g"
    with rustlog.Consumer(broker.address, topic_name, group=group, auto_offset_reset="none") as c:
        with pytest.raises(rustlog.OffsetOutOfRange) as e:
            c.poll(timeout=1)
        assert e.value.source == "client" and "auto_offset_reset is none" in e.value.message
    client.commit_offset(group, topic_name, 0, 3)
    with rustlog.Consumer(broker.address, topic_name, group=group, auto_offset_reset="none",
                          consumer_timeout=IDLE) as c:
        assert [r.offset for r in c] == [3, 4]


def test_an_out_of_range_position_resets_or_raises(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    fill(client, topic_name, 1, 5)
    with rustlog.Consumer(broker.address, topic_name, consumer_timeout=IDLE) as c:
        c.seek(0, 99)  # the broker answers 416; earliest applies
        assert [r.offset for r in c] == [0, 1, 2, 3, 4]
    with rustlog.Consumer(broker.address, topic_name, auto_offset_reset="latest", consumer_timeout=IDLE) as c:
        c.seek(0, 99)
        assert list(c) == [] and c.position(0) == 5
    with rustlog.Consumer(broker.address, topic_name, auto_offset_reset="none") as c:
        c.seek(0, 99)
        with pytest.raises(rustlog.OffsetOutOfRange) as e:
            c.poll(timeout=1)
        assert e.value.source == "broker" and e.value.code == 416


def test_seeking(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    client.produce(topic_name, 0, [PR(b"a", timestamp=1000), PR(b"b", timestamp=2000), PR(b"c", timestamp=3000)])
    with rustlog.Consumer(broker.address, topic_name, consumer_timeout=IDLE) as c:
        c.seek(0, 1)
        assert [r.value for r in c] == [b"b", b"c"]
        c.seek_to_beginning()
        assert [r.value for r in c] == [b"a", b"b", b"c"]
        c.seek_to_time(2000)
        assert [r.value for r in c] == [b"b", b"c"]
        c.seek_to_time(10_000)
        assert list(c) == [] and c.position(0) == 3
        c.seek_to_end()
        client.produce(topic_name, 0, [b"d"])
        assert [r.value for r in c] == [b"d"]
        assert c.high_watermark(0) == 4
        with pytest.raises(rustlog.InvalidArgument, match="not assigned"):
            c.seek(5, 0)


def test_seek_drops_records_already_fetched(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    fill(client, topic_name, 1, 10)
    with rustlog.Consumer(broker.address, topic_name, consumer_timeout=IDLE) as c:
        it = iter(c)
        assert next(it).offset == 0  # the rest of the fetch is buffered
        c.seek(0, 8)
        assert [r.offset for r in it] == [8, 9]


def test_poll_returns_at_most_max_records(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    fill(client, topic_name, 1, 30)
    with rustlog.Consumer(broker.address, topic_name, max_poll_records=8) as c:
        sizes = []
        while sum(sizes) < 30:
            got = c.poll(timeout=10)
            assert got
            sizes.append(len(got))
        assert max(sizes) <= 8
        assert c.poll(timeout=0.2) == []
        assert len(c.poll(timeout=0.2, max_records=3)) == 0


def test_iteration_long_polls_for_new_records(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 2)
    with rustlog.Consumer(broker.address, topic_name, max_wait=0.2, consumer_timeout=30) as c:
        with produced_later(broker, topic_name, 1, b"late"):
            r = next(iter(c))
    assert (r.partition, r.value) == (1, b"late")


def test_tombstones_and_empty_values_arrive_as_none_and_empty(broker: Broker, client: rustlog.Client,
                                                              topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    client.produce(topic_name, 0, [PR(None, key=b"k"), PR(b"", key=None), PR(b"", key=b"")])
    with rustlog.Consumer(broker.address, topic_name, consumer_timeout=IDLE) as c:
        assert [(r.key, r.value) for r in c] == [(b"k", None), (None, b""), (b"", b"")]


def test_consumer_argument_errors(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    client.create_topic(topic_name, 1)
    with pytest.raises(rustlog.TopicNotFound):
        rustlog.Consumer(broker.address, topic_name + "-missing")
    with pytest.raises(rustlog.InvalidArgument, match="earliest, latest or none"):
        rustlog.Consumer(broker.address, topic_name, auto_offset_reset="smallest")
    with pytest.raises(rustlog.InvalidArgument, match="needs a group"):
        rustlog.Consumer(broker.address, topic_name, commit_every=10)
    with pytest.raises(rustlog.InvalidArgument, match="topic is required"):
        rustlog.Consumer(broker.address)
    with pytest.raises(rustlog.InvalidArgument, match="partitions is empty"):
        rustlog.Consumer(broker.address, topic_name, partitions=[])
    with rustlog.Consumer(broker.address, topic_name) as c:
        with pytest.raises(rustlog.InvalidArgument, match="no group"):
            c.commit()
    with rustlog.Consumer(broker.address, topic_name, partitions=[4]) as c:
        with pytest.raises(rustlog.PartitionNotFound):
            c.poll(timeout=1)


def test_address_defaults_to_the_environment(broker: Broker, client: rustlog.Client, topic_name: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fill(client, topic_name, 1, 2)
    monkeypatch.setenv("RUSTLOG_BROKER", broker.address)
    with rustlog.Consumer(topic=topic_name, consumer_timeout=IDLE) as c:
        records: List[rustlog.ConsumerRecord] = list(c)
    assert len(records) == 2


def test_a_consumer_rides_out_a_broker_restart(own_broker: Broker, topic_name: str) -> None:
    b = own_broker
    with rustlog.Client(b.address) as c:
        c.create_topic(topic_name, 1)
        c.produce(topic_name, 0, [b"%d" % i for i in range(10)])
    group = topic_name + "-g"
    with rustlog.Consumer(b.address, topic_name, group=group, commit_every=1, consumer_timeout=5) as consumer:
        it = iter(consumer)
        first = [next(it).value for _ in range(10)]
        port = b.port
        assert b.stop() == 0
        b.start(port=port)  # same address, same data dir
        with rustlog.Client(b.address) as c:
            c.produce(topic_name, 0, [b"after"])
        assert next(it).value == b"after"  # reconnected, resumed at its position
    assert first == [b"%d" % i for i in range(10)]
    with rustlog.Client(b.address) as c:
        assert c.committed_offset(group, topic_name, 0) == 11
    with rustlog.Consumer(b.address, topic_name, reconnect_attempts=2, reconnect_backoff=0.01) as consumer:
        b.kill9()
        with pytest.raises(rustlog.TransportError):
            consumer.poll(timeout=1)
