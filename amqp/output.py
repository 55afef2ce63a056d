"""A connection's output: frames in the order they were decided, written in as few writes as can be.

Everything for the client goes through one `Output`: the connection's own frames, each channel's
replies, deliveries, returns and publisher confirms. The transport takes it all with
`data_to_send()` once a batch of input (or of the broker's callbacks) has been handled, so a
burst of publishes costs one write for all their confirms.

Two things may wait:

- A publisher confirm. Confirms come in sequence order, and a run of acks on one channel goes
  out as one basic.ack with multiple=true, as RabbitMQ does; the run ends at the next other frame.
- Deliveries. A consumer acks one message at a time, and each ack frees room for one more
  delivery. Written one by one, those refills reach the client one per read, and a client
  library like pika then spends most of its time going round its I/O loop (measured: 14k msgs/s,
  client at 100% CPU). So while a channel's client still holds at least DELIVERY_BATCH unacked
  deliveries (work in hand for a while), its refills may wait until DELIVERY_BATCH have gathered
  or DELIVERY_DELAY has passed (27k msgs/s): `can_wait()` says so, and the transport keeps the
  timer. A client holding fewer, and every other frame, is written at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amqp.codec import HEARTBEAT, confirm_frame, shortstr

if TYPE_CHECKING:
    from amqp.channel import AMQPChannel

DELIVERY_BATCH = 32
DELIVERY_DELAY = 0.001  # seconds
SHORTSTR_CACHE = 4096  # encoded names kept per connection before the cache starts again


class Output:
    """The bytes waiting to go to one client, in order."""

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.urgent = False  # out holds more than deliveries: write it without delay
        self.sent = False  # something besides heartbeats was taken since the flag was cleared
        self._held: dict[AMQPChannel, int] = {}  # deliveries in out, per channel
        self._pending_ack: list[int] | None = None  # [channel, seq, multiple]: not yet in out
        self._shortstrs: dict[str, bytes] = {}

    def emit(self, data: bytes) -> None:
        """One or more whole frames, to be written at the next flush."""
        if self._pending_ack is not None:
            self._write_pending_ack()
        self.out.append(data)
        self.urgent = True

    def emit_delivery(self, channel: AMQPChannel, data: bytes) -> None:
        """A basic.deliver with its content: the one kind of output that may wait."""
        if self._pending_ack is not None:
            self._write_pending_ack()
        self.out.append(data)
        self._held[channel] = self._held.get(channel, 0) + 1

    def emit_confirm(self, channel: int, seq: int, ack: bool, multiple: bool) -> None:
        """A publisher confirm; consecutive acks on one channel become one multiple ack."""
        self.urgent = True
        pending = self._pending_ack
        if ack and not multiple:
            if pending is not None and pending[0] == channel:
                pending[1] = seq
                pending[2] = True
                return
            if pending is not None:
                self._write_pending_ack()
            self._pending_ack = [channel, seq, False]
            return
        self.emit(confirm_frame(channel, seq, ack, multiple))

    def _write_pending_ack(self) -> None:
        channel, seq, multiple = self._pending_ack  # type: ignore[misc]
        self._pending_ack = None
        self.out.append(confirm_frame(channel, seq, True, multiple))

    def can_wait(self) -> bool:
        """Is the output only deliveries, to a client busy with earlier ones?"""
        return not self.urgent and bool(self._held) and self._client_busy()

    def _client_busy(self) -> bool:
        """Does every channel we hold deliveries for have DELIVERY_BATCH others in hand?
        (The unacked count is read without the broker lock: a size, for a heuristic.)"""
        for channel, held in self._held.items():
            if held >= DELIVERY_BATCH or len(channel.core.unacked) - held < DELIVERY_BATCH:
                return False
        return True

    def data_to_send(self) -> bytes:
        """Everything emitted so far, as one bytes object (b"" when there is nothing)."""
        self.urgent = False
        if self._pending_ack is not None:
            self._write_pending_ack()
        out = self.out
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        if data is not HEARTBEAT:
            self.sent = True
        return data

    def output_written(self, socket_behind: bool) -> None:
        """The data taken last went to the socket: its deliveries' channels may get credit."""
        if not self._held:
            return
        held, self._held = self._held, {}
        for channel in held:
            channel.output_written(socket_behind)

    def discard(self) -> None:
        """The socket is gone: nothing more will be written."""
        self.out.clear()
        self._held.clear()
        self._pending_ack = None

    def shortstr(self, text: str) -> bytes:
        """Exchange names and routing keys, encoded once (they repeat on every delivery)."""
        encoded = self._shortstrs.get(text)
        if encoded is None:
            if len(self._shortstrs) > SHORTSTR_CACHE:
                self._shortstrs.clear()
            encoded = self._shortstrs[text] = shortstr(text)
        return encoded
