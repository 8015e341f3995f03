"""The codec against the worked examples of docs/PROTOCOL.md, byte for byte
(the same bytes ProtocolGoldenTest checks on the C++ side), and the
primitive rules. No broker needed."""

from __future__ import annotations

import pytest

import rustlog
from rustlog import _codec as codec
from rustlog._wire import Reader, Writer, frame


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def unframe(data: bytes) -> bytes:
    assert int.from_bytes(data[:4], "big") == len(data) - 4
    return data[4:]


def test_handshake_example() -> None:
    assert frame(codec.encode_handshake("cli/1")) == h("00 00 00 08  10  00 05 63 6c 69 2f 31")
    answer = unframe(h("00 00 00 11  10  00 04 72 6c 2f 31  00 a0 00 00  00 00 00 02  01 ff"))
    info = codec.decode(answer, codec.HANDSHAKE, codec.decode_handshake)
    assert info == rustlog.ServerInfo("rl/1", 10 * 1024 * 1024, (0x01, 0xFF))


def test_produce_ex_example() -> None:
    req = codec.encode_produce_ex("t", 0, -1, [(-1, b"k", b"v", [("h", b"x")])])
    assert frame(req) == h(
        "00 00 00 32  11  00 01 74  00 00 00 00  ff ff ff ff ff ff ff ff  00 00 00 01"
        "ff ff ff ff ff ff ff ff  00 00 00 01 6b  00 00 00 01 76"
        "00 00 00 01  00 01 68  00 00 00 01 78"
    )
    answer = unframe(h("00 00 00 15  11  00 00 00 00 00 00 00 07  00 00 00 01  00 06 0a 24 18 1e 40 00"))
    assert codec.decode(answer, codec.PRODUCE_EX, codec.decode_produce_ex) == (7, 1, 1_700_000_000_000_000)


def test_fetch_ex_example() -> None:
    req = codec.encode_fetch_ex("t", 0, 5, 1 << 20, 100, 1)
    assert frame(req) == h(
        "00 00 00 1c  12  00 01 74  00 00 00 00  00 00 00 00 00 00 00 05  00 10 00 00  00 00 00 64  00 00 00 01"
    )
    answer = unframe(h(
        "00 00 00 3a  12  00 00 00 00 00 00 00 09  00 00 00 00 00 00 00 00  00 00 00 01"
        "00 00 00 00 00 00 00 07  00 06 0a 24 18 1e 40 00  ff ff ff ff  00 00 00 01 76  00 00 00 00"
        "00 00 00 00 00 00 00 08"
    ))
    r = codec.decode(answer, codec.FETCH_EX, codec.decode_fetch_ex)
    assert r == rustlog.FetchResult(9, 0, [rustlog.Record(7, 1_700_000_000_000_000, None, b"v", [])], 8)


def test_list_offsets_example() -> None:
    assert frame(codec.encode_list_offsets("t", 0, rustlog.EARLIEST)) == h(
        "00 00 00 10  13  00 01 74  00 00 00 00  ff ff ff ff ff ff ff fe"
    )
    answer = unframe(h("00 00 00 0a  13  00 00 00 00 00 00 00 00  01"))
    assert codec.decode(answer, codec.LIST_OFFSETS, codec.decode_list_offsets) == rustlog.OffsetLookup(0, True)


def test_create_topic_ex_example() -> None:
    assert frame(codec.encode_create_topic_ex("t", 3, [("cleanup.policy", "compact")])) == h(
        "00 00 00 25  14  00 01 74  00 00 00 03  00 00 00 01"
        "00 0e 63 6c 65 61 6e 75 70 2e 70 6f 6c 69 63 79  00 07 63 6f 6d 70 61 63 74"
    )
    assert codec.decode(unframe(h("00 00 00 01  14")), codec.CREATE_TOPIC_EX, codec.decode_empty) is None


def test_describe_topic_config_example() -> None:
    assert frame(codec.encode_describe_topic_config("t")) == h("00 00 00 04  15  00 01 74")
    answer = unframe(h(
        "00 00 00 37  15  00 00 00 01  00 00 00 01  00 05 66 6c 75 73 68  00 01 31"
        "00 00 00 01  00 00 00 00  00 00 00 00 00 00 00 00"
        "00 00 00 00 00 00 00 09  00 00 00 01  00 00 00 00 00 00 10 00"
    ))
    count, config, stats = codec.decode(answer, codec.DESCRIBE_TOPIC_CONFIG, codec.decode_describe_topic_config)
    assert (count, config, stats) == (1, {"flush": "1"}, [rustlog.PartitionStats(0, 0, 9, 1, 4096)])


def test_delete_and_group_examples() -> None:
    assert frame(codec.encode_delete_topic("t")) == h("00 00 00 04  16  00 01 74")
    assert frame(codec.encode_list_groups()) == h("00 00 00 01  17")
    assert codec.decode(unframe(h("00 00 00 08  17  00 00 00 01  00 01 67")), codec.LIST_GROUPS,
                        codec.decode_list_groups) == ["g"]
    assert frame(codec.encode_describe_group("g")) == h("00 00 00 04  18  00 01 67")
    answer = unframe(h(
        "00 00 00 24  18  00 00 00 01  00 01 74  00 00 00 00  00 00 00 00 00 00 00 05"
        "00 00 00 00 00 00 00 09  00 00 00 00 00 00 00 04"
    ))
    assert codec.decode(answer, codec.DESCRIBE_GROUP, codec.decode_describe_group) == [
        rustlog.GroupOffset("t", 0, 5, 9, 4)
    ]
    assert frame(codec.encode_delete_group("g")) == h("00 00 00 04  19  00 01 67")


def test_v0_layouts_used_by_the_client() -> None:
    assert frame(codec.encode_offset_commit("g", "t", 2, 7)) == h(
        "00 00 00 13  03  00 01 67  00 01 74  00 00 00 02  00 00 00 00 00 00 00 07"
    )
    assert frame(codec.encode_offset_fetch("g", "t", 2)) == h("00 00 00 0b  04  00 01 67  00 01 74  00 00 00 02")
    assert codec.decode(h("04 01 00 00 00 00 00 00 00 07"), codec.OFFSET_FETCH, codec.decode_offset_fetch) == 7
    assert codec.decode(h("04 00"), codec.OFFSET_FETCH, codec.decode_offset_fetch) is None
    assert frame(codec.encode_ping()) == h("00 00 00 01 ff")
    assert codec.decode(h("07 00 01 74 00 00 00 02 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00"
                          "00 00 00 01 00 00 00 00 00 00 00 05"), codec.DESCRIBE_TOPIC, codec.decode_describe_topic) == 2


def test_error_frame_example_raises_the_broker_code() -> None:
    payload = unframe(h("00 00 00 0f  fe  01 94  00 0a 6e 6f 20 74 6f 70 69 63 20 74"))
    with pytest.raises(rustlog.TopicNotFound) as e:
        codec.decode(payload, codec.DESCRIBE_TOPIC_CONFIG, codec.decode_describe_topic_config)
    assert (e.value.code, e.value.message, e.value.source) == (404, "no topic t", "broker")
    assert isinstance(e.value, rustlog.BrokerError)


def test_unknown_broker_code_is_a_broker_error_with_that_code() -> None:
    with pytest.raises(rustlog.BrokerError) as e:
        codec.decode(h("fe 02 9a 00 02 68 69"), codec.PING, codec.decode_empty)
    assert type(e.value) is rustlog.BrokerError
    assert (e.value.code, e.value.message, e.value.name) == (666, "hi", "Unknown")


def test_null_and_empty_stay_distinct_on_the_wire() -> None:
    w = Writer(0)
    w.nullable_bytes(None, "k")
    w.nullable_bytes(b"", "k")
    assert w.payload()[1:] == h("ff ff ff ff  00 00 00 00")
    r = Reader(w.payload(), "test")
    assert r.nullable_bytes("a") is None
    assert r.nullable_bytes("b") == b""
    r.finish()


@pytest.mark.parametrize(
    "payload, problem",
    [
        (h("12 00 00 00 00 00 00 00 09"), "truncated"),  # FetchEx answer cut short
        (h("13 00 00 00 00 00 00 00 00 02"), "must be 0 or 1"),  # bad bool
        (h("13 00 00 00 00 00 00 00 00 01 00"), "trailing bytes"),
        (h("17 ff ff ff ff"), "claims 4294967295 elements"),  # count checked before allocating
        (h("17 00 00 00 01 00 02 c0 80"), "not valid UTF-8"),  # overlong NUL
        (h("17 00 00 00 01 00 01 00"), "NUL"),
        (h("12" + "00" * 16 + "00 00 00 01" + "00" * 16 + "ff ff ff fe 00 00 00 00 00 00 00 00" + "00" * 8),
         "only -1 = null"),
    ],
)
def test_malformed_answers_are_transport_errors(payload: bytes, problem: str) -> None:
    body = {0x12: codec.decode_fetch_ex, 0x13: codec.decode_list_offsets, 0x17: codec.decode_list_groups}[payload[0]]
    with pytest.raises(rustlog.TransportError, match=problem):
        codec.decode(payload, payload[0], body)


def test_an_answer_of_the_wrong_type_is_a_transport_error() -> None:
    with pytest.raises(rustlog.TransportError, match="unexpected answer.*Ping.*ListGroups"):
        codec.decode(h("ff"), codec.LIST_GROUPS, codec.decode_list_groups)


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x" * 65536])
def test_strings_the_wire_cannot_carry_are_refused_before_sending(bad: str) -> None:
    with pytest.raises(rustlog.InvalidArgument):
        codec.encode_describe_topic(bad)


def test_timestamps_and_specs_below_their_minimum_are_refused() -> None:
    with pytest.raises(rustlog.InvalidArgument, match="timestamp"):
        codec.encode_produce_ex("t", 0, -2, [(-1, None, b"v", [])])
    with pytest.raises(rustlog.InvalidArgument, match="timestamp"):
        codec.encode_produce_ex("t", 0, -1, [(-5, None, b"v", [])])
    with pytest.raises(rustlog.InvalidArgument, match="spec"):
        codec.encode_list_offsets("t", 0, -3)


def test_frames_above_the_limit_are_too_large() -> None:
    with pytest.raises(rustlog.TooLarge) as e:
        frame(b"\x01" * 11, max_frame_bytes=10)
    assert e.value.code == 413 and e.value.source == "client"
    assert frame(b"\x01" * 10, max_frame_bytes=10)[:4] == h("00 00 00 0a")


def test_partition_for_key_is_fnv1a_32() -> None:
    # FNV-1a 32-bit reference values: "" -> 0x811c9dc5, "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
    assert rustlog.partition_for_key(b"", 1 << 32) == 0x811C9DC5
    assert rustlog.partition_for_key(b"a", 1 << 32) == 0xE40C292C
    assert rustlog.partition_for_key("foobar", 1 << 32) == 0xBF9CF968
    assert rustlog.partition_for_key(b"foobar", 7) == 0xBF9CF968 % 7
    assert rustlog.partition_for_key(b"x", 0) == 0


@pytest.mark.parametrize(
    "text, expected",
    [("127.0.0.1:9092", ("127.0.0.1", 9092)), ("localhost", ("localhost", 9092)), ("[::1]:19092", ("::1", 19092))],
)
def test_broker_addresses(text: str, expected: tuple) -> None:
    assert rustlog.parse_broker_address(text) == expected


@pytest.mark.parametrize("text", ["", ":9092", "host:", "host:0", "host:65536", "host:x", "::1:9092", "[::1", "[::1]x"])
def test_bad_broker_addresses(text: str) -> None:
    with pytest.raises(rustlog.InvalidArgument, match="bad broker address"):
        rustlog.parse_broker_address(text)


def test_default_address_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUSTLOG_BROKER", "10.1.2.3:1234")
    assert rustlog.default_broker_address() == "10.1.2.3:1234"
    monkeypatch.setenv("RUSTLOG_BROKER", "")
    assert rustlog.default_broker_address() == "127.0.0.1:9092"
    monkeypatch.delenv("RUSTLOG_BROKER")
    assert rustlog.default_broker_address() == "127.0.0.1:9092"


def test_error_classes_match_the_cpp_error_code_table() -> None:
    """Each Python class names a code of src/common/status.h (ErrorCode) with
    the C++ name and number, so both clients report the same error alike.
    The client-side codes (408, 429) are checked once status.h has them."""
    import re

    from conftest import REPO
    from rustlog import errors

    header = (REPO / "src" / "common" / "status.h").read_text()
    names = (REPO / "src" / "common" / "status.cpp").read_text()
    cpp_codes = {name: int(num) for name, num in re.findall(r"\bk(\w+) = (\d+),", header) if name != "Ok"}
    cpp_names = dict(re.findall(r"case ErrorCode::k(\w+): return \"(\w+)\";", names))
    assert cpp_codes, "no ErrorCode table found in status.h"
    client_side = {errors.TIMED_OUT, errors.BUFFER_FULL}
    for code, cls in errors._BY_CODE.items():
        wire_name = {"InternalError": "Internal"}.get(cls.__name__, cls.__name__)
        if code in client_side and code not in cpp_codes.values():
            continue
        assert cpp_codes.get(wire_name) == code, f"{cls.__name__} = {code} is not ErrorCode::k{wire_name} in status.h"
        assert cpp_names[wire_name] == wire_name
        assert errors.broker_error(code, "m").name == cls.__name__


def test_v0_codes_match_the_cpp_v0_table_and_raise_the_matching_class() -> None:
    """A legacy connection (handshake=False) gets the v0 codes of
    src/protocol/error_codes_v0.h; each raises the class of the extended code
    it stands for, keeping the number the broker sent."""
    import re

    from conftest import REPO
    from rustlog import errors

    header = (REPO / "src" / "protocol" / "error_codes_v0.h").read_text()
    cpp = {name: int(num) for name, num in re.findall(r"\bk(\w+) = (\d+),", header)}
    py = {name[3:]: value for name, value in vars(errors).items() if name.startswith("V0_")}
    snake = {re.sub(r"(?<!^)(?=[A-Z])", "_", k).upper(): v for k, v in cpp.items() if k != "Internal"}
    assert py == snake
    # DescribeTopic of an unknown topic on a legacy connection: 13.
    with pytest.raises(rustlog.TopicNotFound) as e:
        codec.decode(h("fe 00 0d 00 02 68 69"), codec.DESCRIBE_TOPIC, codec.decode_describe_topic)
    assert (e.value.code, e.value.name, e.value.source) == (13, "TopicNotFound", "broker")
    for code, cls in [(4, rustlog.StorageError), (10, rustlog.TopicNotFound), (11, rustlog.TopicExists),
                      (12, rustlog.InvalidRequest), (14, rustlog.PartitionNotFound), (15, rustlog.TooLarge),
                      (16, rustlog.InvalidRequest), (17, rustlog.OffsetOutOfRange), (18, rustlog.StorageError),
                      (19, rustlog.InsufficientSpace), (5, rustlog.BrokerError)]:
        err = errors.broker_error(code, "m")
        assert isinstance(err, cls) and err.code == code, code
