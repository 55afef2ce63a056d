"""The wire format on its own (no sockets): content headers, field tables, framing helpers."""

from __future__ import annotations

import datetime as dt
import struct

import pika.spec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pamqp import commands

from amqp import codec
from broker.message import Properties

shortstrs = st.text(max_size=40)
header_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.text(max_size=20),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
properties = st.builds(
    Properties,
    content_type=st.none() | shortstrs,
    headers=st.none()
    | st.dictionaries(st.text(min_size=1, max_size=10), header_values, max_size=4),
    delivery_mode=st.none() | st.sampled_from([1, 2]),
    priority=st.none() | st.integers(0, 9),
    correlation_id=st.none() | shortstrs,
    reply_to=st.none() | shortstrs,
    expiration=st.none() | st.integers(0, 10**6).map(str),
    message_id=st.none() | shortstrs,
    timestamp=st.none() | st.integers(0, 2**32),
    type=st.none() | shortstrs,
    app_id=st.none() | shortstrs,
)


@given(properties, st.integers(0, 2**40))
def test_content_header_round_trips(props: Properties, size: int) -> None:
    encoded = codec.encode_content_header(props, size)
    class_id, body_size, decoded = codec.decode_content_header(encoded)
    assert (class_id, body_size) == (60, size)
    assert decoded == props


@given(properties)
def test_pika_reads_what_we_encode(props: Properties) -> None:
    """Our encoding (used for dead-lettered copies) is what a real client decodes."""
    encoded = codec.encode_content_header(props, 5)
    header = pika.spec.BasicProperties()
    header.decode(encoded, 12)
    for name in ("content_type", "correlation_id", "reply_to", "expiration", "message_id"):
        assert getattr(header, name) == getattr(props, name)
    assert header.headers == props.headers
    assert header.timestamp == props.timestamp


def test_pika_encoded_header_decodes_to_the_same_properties() -> None:
    props = pika.spec.BasicProperties(
        content_type="text/plain", headers={"a": 1, "b": [1, "x"]}, delivery_mode=2
    )
    payload = struct.pack(">HHQ", 60, 0, 3) + b"".join(props.encode())
    class_id, size, decoded = codec.decode_content_header(payload)
    assert (class_id, size, decoded.content_type, decoded.delivery_mode) == (60, 3, "text/plain", 2)
    assert decoded.headers == {"a": 1, "b": [1, "x"]}


def test_x_death_is_encoded_as_rabbitmq_does() -> None:
    when = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    table = codec.encode_table({"x-death": [{"count": 1, "time": when}], "n": 1})
    assert b"\x05countl\x00\x00\x00\x00\x00\x00\x00\x01" in table  # count as long-long
    assert b"\x01nI\x00\x00\x00\x01" in table  # other ints as pika types them


@pytest.mark.parametrize("name", ["café", "a*b", "orders!", "ключ", "with space", ""])
def test_replies_carry_names_pamqp_would_refuse(name: str) -> None:
    frame = codec.encode_method(
        1, codec.build(commands.Queue.DeclareOk, queue=name, message_count=0, consumer_count=0)
    )
    method = codec.decode_method(frame[7:-1])
    assert method.queue == name


@pytest.mark.parametrize("size", [0, 1, 131064, 131065, 1_000_000])
def test_bodies_are_split_at_frame_max(size: int) -> None:
    body = b"z" * size
    data = b"".join(bytes(p) for p in codec.content_frames(1, b"h" * 14, body, 131072))
    frames, offset = [], 0
    while offset < len(data):
        kind, channel, length = struct.unpack_from(">BHI", data, offset)
        assert data[offset + 7 + length] == 0xCE and length <= 131064
        frames.append((kind, data[offset + 7 : offset + 7 + length]))
        offset += 8 + length
    assert frames[0][0] == codec.FRAME_HEADER
    assert b"".join(payload for kind, payload in frames[1:]) == body
    assert len(frames) - 1 == -(-size // 131064)


def test_erlang_binary_matches_rabbitmqs_error_texts() -> None:
    assert codec.erlang_binary(b"\x00\x0a\x00\x28") == "<<0,10,0,40>>"
    assert codec.erlang_binary(b"") == "<<>>"
