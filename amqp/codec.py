"""The AMQP 0-9-1 wire format: frames, methods and the content header, with no I/O.

pamqp knows every method of the spec, and we use it for the rare ones (declare, bind, consume …).
Three things are ours:

- Framing. pamqp cannot say "I need more bytes", and the listener must check each frame's size
  against frame_max and its end byte (0xCE) and answer a bad frame the way RabbitMQ does.
- Encoding replies without pamqp's name check: pamqp only allows names made of
  `[a-zA-Z0-9-_.:@#,/+ ]`, while RabbitMQ accepts any UTF-8 name ("café", "a*b", "orders!").
- The hot path: basic.publish, basic.deliver, basic.ack and the content header are packed and
  unpacked here with `struct`, because they run for every message.

A content header is kept as the raw bytes the publisher sent and forwarded unchanged on delivery
(some field-table value types do not survive a decode/encode round trip); it is only encoded here
when the broker made or changed the message (dead-lettering adds `x-death`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from typing import Any

from pamqp import commands, decode
from pamqp import encode as pamqp_encode
from pamqp.base import Frame as Method

from broker.message import EMPTY_PROPERTIES, Properties

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"

FRAME_METHOD = 1
FRAME_HEADER = 2
FRAME_BODY = 3
FRAME_HEARTBEAT = 8
FRAME_END = 0xCE
FRAME_END_BYTE = b"\xce"
FRAME_OVERHEAD = 8  # 7-byte frame header + the end byte

HEARTBEAT = b"\x08\x00\x00\x00\x00\x00\x00\xce"

FRAME_HEAD = struct.Struct(">BHI")
METHOD_ID = struct.Struct(">HH")
CONTENT_HEAD = struct.Struct(">HHQ")  # class id, weight, body size (then property flags)
_U32 = struct.Struct(">I")
_I64 = struct.Struct(">q")
_U64_BIT = struct.Struct(">QB")
_U16 = struct.Struct(">H")
# A whole basic.ack / basic.nack frame: type, channel, size, class, method, tag, bits, end.
_CONFIRM_FRAME = struct.Struct(">BHIHHQBB")


def method_index(class_id: int, method_id: int) -> int:
    return class_id << 16 | method_id


def method_ids(payload: bytes) -> tuple[int, int]:
    """(class id, method id) of a method frame's payload, (0, 0) when too short to say."""
    if len(payload) < 4:
        return 0, 0
    index = _U32.unpack_from(payload)[0]
    return index >> 16, index & 0xFFFF


# The methods the listener handles by hand, by their (class << 16 | method) index.
BASIC_PUBLISH = method_index(60, 40)
BASIC_ACK = method_index(60, 80)
BASIC_REJECT = method_index(60, 90)
BASIC_NACK = method_index(60, 120)


class FrameError(Exception):
    """Bytes that cannot be decoded; the listener answers 501 FRAME_ERROR with this text."""


class UnknownMethod(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(f"unknown method class {index >> 16} method {index & 0xFFFF}")
        self.index = index


def erlang_binary(data: bytes, limit: int = 64) -> str:
    """Bytes as RabbitMQ prints them in an error text: <<0,10,0,40>>."""
    shown = ",".join(str(b) for b in data[:limit])
    return f"<<{shown}{',...' if len(data) > limit else ''}>>"


# --- frames ------------------------------------------------------------------------------


def frame(frame_type: int, channel: int, payload: bytes) -> bytes:
    return FRAME_HEAD.pack(frame_type, channel, len(payload)) + payload + FRAME_END_BYTE


def content_frames(channel: int, header: bytes, body: bytes, frame_max: int) -> list[bytes]:
    """The header frame and as many body frames as the negotiated frame_max needs."""
    parts = [FRAME_HEAD.pack(FRAME_HEADER, channel, len(header)), header, FRAME_END_BYTE]
    if not body:
        return parts
    room = frame_max - FRAME_OVERHEAD
    if len(body) <= room:
        parts += (FRAME_HEAD.pack(FRAME_BODY, channel, len(body)), body, FRAME_END_BYTE)
        return parts
    view = memoryview(body)
    for start in range(0, len(body), room):
        chunk = view[start : start + room]
        parts += (FRAME_HEAD.pack(FRAME_BODY, channel, len(chunk)), chunk, FRAME_END_BYTE)
    return parts


# --- methods -----------------------------------------------------------------------------


def decode_method(payload: bytes) -> Method:
    """A method frame's payload as a pamqp command (no name validation happens on decode)."""
    if len(payload) < 4:
        raise FrameError(f"cannot decode {erlang_binary(payload)}")
    index = _U32.unpack_from(payload)[0]
    cls = commands.INDEX_MAPPING.get(index)
    if cls is None:
        raise UnknownMethod(index)
    method = cls()
    try:
        method.unmarshal(payload[4:])
    except Exception as error:  # pamqp raises struct.error, ValueError, IndexError …
        raise FrameError(f"cannot decode {erlang_binary(payload[4:])}") from error
    return method


def build(cls: type[Method], **fields: Any) -> Method:
    """A pamqp command with these fields, skipping pamqp's name validation."""
    method = cls()
    for name, value in fields.items():
        setattr(method, name, value)
    return method


def encode_method(channel: int, method: Method) -> bytes:
    """A method frame, encoded like pamqp's Frame.marshal but without validate()."""
    out = [_U32.pack(method.index)]
    bits = -1
    position = 0
    for name in method.__slots__:
        kind = method.amqp_type(name)
        value = getattr(method, name)
        if kind == "bit":
            if bits < 0 or position == 8:
                if bits >= 0:
                    out.append(bytes((bits,)))
                bits, position = 0, 0
            if value:
                bits |= 1 << position
            position += 1
            continue
        if bits >= 0:
            out.append(bytes((bits,)))
            bits = -1
        if kind == "table":
            out.append(encode_table(value or {}))
        else:
            out.append(pamqp_encode.by_type(value, kind))
    if bits >= 0:
        out.append(bytes((bits,)))
    return frame(FRAME_METHOD, channel, b"".join(out))


def shortstr(text: str) -> bytes:
    data = text.encode()
    if len(data) > 255:
        raise ValueError(f"short string longer than 255 bytes: {text[:40]!r}…")
    return bytes((len(data),)) + data


def _read_shortstr(data: bytes, offset: int) -> tuple[str, int]:
    end = offset + 1 + data[offset]
    if end > len(data):
        raise IndexError("short string runs past the frame")
    return data[offset + 1 : end].decode(), end


def decode_publish(payload: bytes) -> tuple[str, str, bool, bool]:
    """basic.publish: (exchange, routing key, mandatory, immediate)."""
    try:
        exchange, offset = _read_shortstr(payload, 6)  # method id (4) + ticket (2)
        routing_key, offset = _read_shortstr(payload, offset)
        bits = payload[offset]
    except (IndexError, UnicodeDecodeError) as error:
        raise FrameError(f"cannot decode {erlang_binary(payload[4:])}") from error
    return exchange, routing_key, bool(bits & 1), bool(bits & 2)


def decode_settle(payload: bytes) -> tuple[int, int]:
    """basic.ack / nack / reject: (delivery tag, flag bits)."""
    try:
        return _U64_BIT.unpack_from(payload, 4)
    except struct.error as error:
        raise FrameError(f"cannot decode {erlang_binary(payload[4:])}") from error


def deliver_frame(
    channel: int, consumer_tag: bytes, tag: int, redelivered: bool, exchange: bytes, key: bytes
) -> bytes:
    """basic.deliver, with consumer tag, exchange and routing key already short-string encoded."""
    payload = b"".join(
        (b"\x00\x3c\x00\x3c", consumer_tag, _U64_BIT.pack(tag, redelivered), exchange, key)
    )
    return FRAME_HEAD.pack(FRAME_METHOD, channel, len(payload)) + payload + FRAME_END_BYTE


def get_ok_frame(
    channel: int, tag: int, redelivered: bool, exchange: str, key: str, message_count: int
) -> bytes:
    payload = b"".join(
        (
            b"\x00\x3c\x00\x47",
            _U64_BIT.pack(tag, redelivered),
            shortstr(exchange),
            shortstr(key),
            _U32.pack(message_count),
        )
    )
    return frame(FRAME_METHOD, channel, payload)


def return_frame(channel: int, code: int, text: str, exchange: str, key: str) -> bytes:
    payload = b"".join(
        (b"\x00\x3c\x00\x32", _U16.pack(code), shortstr(text), shortstr(exchange), shortstr(key))
    )
    return frame(FRAME_METHOD, channel, payload)


def confirm_frame(channel: int, seq: int, ack: bool, multiple: bool) -> bytes:
    """basic.ack (publisher confirm) or basic.nack with requeue=false… as RabbitMQ sends it."""
    if ack:
        return _CONFIRM_FRAME.pack(FRAME_METHOD, channel, 13, 60, 80, seq, multiple, FRAME_END)
    bits = multiple | 2  # RabbitMQ sets requeue on the nacks it sends
    return _CONFIRM_FRAME.pack(FRAME_METHOD, channel, 13, 60, 120, seq, bits, FRAME_END)


# --- the content header: basic properties --------------------------------------------------

# (attribute on broker.message.Properties, flag bit, wire type), in wire order.
_PROPERTY_FIELDS = (
    ("content_type", 0x8000, "shortstr"),
    ("content_encoding", 0x4000, "shortstr"),
    ("headers", 0x2000, "table"),
    ("delivery_mode", 0x1000, "octet"),
    ("priority", 0x0800, "octet"),
    ("correlation_id", 0x0400, "shortstr"),
    ("reply_to", 0x0200, "shortstr"),
    ("expiration", 0x0100, "shortstr"),
    ("message_id", 0x0080, "shortstr"),
    ("timestamp", 0x0040, "timestamp"),
    ("type", 0x0020, "shortstr"),
    ("user_id", 0x0010, "shortstr"),
    ("app_id", 0x0008, "shortstr"),
    ("cluster_id", 0x0004, "shortstr"),
)


def decode_content_header(payload: bytes) -> tuple[int, int, Properties]:
    """A content header frame's payload: (class id, body size, properties)."""
    try:
        class_id, _weight, body_size = CONTENT_HEAD.unpack_from(payload)
        flags = _U16.unpack_from(payload, 12)[0]
        if not flags:
            return class_id, body_size, EMPTY_PROPERTIES
        offset = 14
        while _U16.unpack_from(payload, offset - 2)[0] & 1:  # continuation flag words
            offset += 2
        values: dict[str, Any] = {}
        for name, bit, kind in _PROPERTY_FIELDS:
            if not flags & bit:
                continue
            if kind == "shortstr":
                values[name], offset = _read_shortstr(payload, offset)
            elif kind == "octet":
                values[name] = payload[offset]
                offset += 1
            elif kind == "timestamp":
                values[name] = _I64.unpack_from(payload, offset)[0]
                offset += 8
            else:
                consumed, values[name] = decode.field_table(payload[offset:])
                offset += consumed
        return class_id, body_size, Properties(**values)
    except (IndexError, struct.error, ValueError) as error:
        raise FrameError(f"cannot decode {erlang_binary(payload)}") from error


def encode_content_header(properties: Properties, body_size: int) -> bytes:
    """A content header payload for properties the broker made or changed."""
    flags = 0
    parts = []
    for name, bit, kind in _PROPERTY_FIELDS:
        value = getattr(properties, name)
        if value is None:
            continue
        flags |= bit
        if kind == "shortstr":
            parts.append(shortstr(value))
        elif kind == "octet":
            parts.append(bytes((value,)))
        elif kind == "timestamp":
            parts.append(_I64.pack(_epoch_seconds(value)))
        else:
            parts.append(encode_table(value))
    return CONTENT_HEAD.pack(60, 0, body_size) + _U16.pack(flags) + b"".join(parts)


def _epoch_seconds(value: Any) -> int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return int(value.timestamp())
    return int(value)


# --- field tables --------------------------------------------------------------------------


def encode_table(table: dict[str, Any]) -> bytes:
    """A field table, typed the way pika types Python values (int → I or l, float → d).

    Unlike pamqp's encoder it keeps key order, takes bytes as a long string, and writes the
    x-death `count` as a long-long as RabbitMQ does."""
    parts = []
    for key, value in table.items():
        parts.append(shortstr(key))
        if key == "x-death" and isinstance(value, list):
            parts.append(b"A" + _encode_array([_death_entry(e) for e in value]))
        else:
            parts.append(_encode_value(value))
    data = b"".join(parts)
    return _U32.pack(len(data)) + data


class _Long(int):
    """An int that must go on the wire as a signed 64-bit 'l'."""


def _death_entry(entry: Any) -> Any:
    if isinstance(entry, dict) and isinstance(entry.get("count"), int):
        return {**entry, "count": _Long(entry["count"])}
    return entry


def _encode_array(values: list[Any]) -> bytes:
    data = b"".join(_encode_value(value) for value in values)
    return _U32.pack(len(data)) + data


def _encode_value(value: Any) -> bytes:
    if isinstance(value, str):
        data = value.encode()
        return b"S" + _U32.pack(len(data)) + data
    if isinstance(value, bool):
        return b"t" + bytes((value,))
    if isinstance(value, int):
        if not isinstance(value, _Long) and -(2**31) <= value < 2**31:
            return b"I" + struct.pack(">i", value)
        return b"l" + _I64.pack(value)
    if isinstance(value, bytes):
        return b"S" + _U32.pack(len(value)) + value
    if isinstance(value, bytearray):
        return b"x" + _U32.pack(len(value)) + bytes(value)
    if isinstance(value, float):
        return b"d" + struct.pack(">d", value)
    if isinstance(value, decimal.Decimal):
        return b"D" + pamqp_encode.decimal(value)
    if isinstance(value, dt.datetime):
        return b"T" + _I64.pack(_epoch_seconds(value))
    if isinstance(value, dict):
        return b"F" + encode_table(value)
    if isinstance(value, (list, tuple)):
        return b"A" + _encode_array(list(value))
    if value is None:
        return b"V"
    raise TypeError(f"cannot encode {type(value).__name__} in a field table: {value!r}")
