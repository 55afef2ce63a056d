"""One test per RabbitMQ behaviour in DESIGN.md: reply codes and texts as RabbitMQ 3.10 sends them
(probed against a real RabbitMQ 3.10.8 with pika)."""

from __future__ import annotations

import pytest

from broker import AMQPError, Broker, ChannelClosed, ConnectionClosed, Properties


@pytest.fixture
def channel(broker: Broker):
    with broker.connect("test") as connection:
        yield connection.channel()


def raises(code: int, text: str):
    """Expect an AMQPError with exactly this reply code and text."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(AMQPError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            result = self.ctx.__exit__(*exc)
            assert self.info.value.reply_code == code
            assert self.info.value.reply_text == text
            return result

    return _Check()


def test_default_exchange_routes_by_queue_name(channel):
    channel.queue_declare("orders")
    result = channel.basic_publish("", "orders", b"one")
    assert result.routed_to == ["orders"]
    assert channel.basic_get("orders", no_ack=True).body == b"one"


@pytest.mark.parametrize(
    "action",
    [
        lambda ch: ch.exchange_declare(""),
        lambda ch: ch.exchange_declare("", passive=True),
        lambda ch: ch.exchange_delete(""),
        lambda ch: ch.queue_bind("q", ""),
        lambda ch: ch.queue_unbind("q", "", "q"),
    ],
    ids=["declare", "declare-passive", "delete", "bind", "unbind"],
)
def test_default_exchange_cannot_be_touched(broker, action):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        with raises(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
            action(channel)
        assert channel.closed, "a channel error closes the channel"


def test_amq_exchanges_exist_up_front(channel):
    for name in ("amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"):
        channel.exchange_declare(name, passive=True)
    channel.exchange_declare("amq.direct", "direct", durable=True)  # equivalent: fine


def test_amq_prefix_is_reserved(broker):
    with broker.connect() as connection:
        with raises(
            403, "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'"
        ):
            connection.channel().exchange_declare("amq.foo", "direct")
        with raises(403, "ACCESS_REFUSED - queue name 'amq.foo' contains reserved prefix 'amq.*'"):
            connection.channel().queue_declare("amq.foo")
        with raises(
            403,
            "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed",
        ):
            connection.channel().exchange_delete("amq.direct")


def test_passive_declare_of_missing_entities_is_404(broker):
    with broker.connect() as connection:
        with raises(404, "NOT_FOUND - no exchange 'nope' in vhost '/'"):
            connection.channel().exchange_declare("nope", passive=True)
        with raises(404, "NOT_FOUND - no queue 'nope' in vhost '/'"):
            connection.channel().queue_declare("nope", passive=True)


def test_exchange_redeclare_inequivalent(broker):
    with broker.connect() as connection:
        connection.channel().exchange_declare("x", "direct")
        cases = [
            (dict(exchange_type="fanout"), "'type' for exchange 'x' in vhost '/': received 'fanout' but current is 'direct'"),
            (dict(durable=True), "'durable' for exchange 'x' in vhost '/': received 'true' but current is 'false'"),
            (dict(auto_delete=True), "'auto_delete' for exchange 'x' in vhost '/': received 'true' but current is 'false'"),
            (dict(internal=True), "'internal' for exchange 'x' in vhost '/': received 'true' but current is 'false'"),
            (
                dict(arguments={"alternate-exchange": "foo"}),
                "'alternate-exchange' for exchange 'x' in vhost '/': received the value 'foo' of "
                "type 'longstr' but current is none",
            ),
        ]  # fmt: skip
        for kwargs, text in cases:
            kwargs.setdefault("exchange_type", "direct")
            with raises(406, f"PRECONDITION_FAILED - inequivalent arg {text}"):
                connection.channel().exchange_declare("x", **kwargs)
        connection.channel().exchange_declare("x", "fanout", passive=True)  # passive ignores type


def test_queue_redeclare_inequivalent(broker):
    with broker.connect() as connection:
        connection.channel().queue_declare("q", arguments={"x-message-ttl": 1000})
        prefix = "PRECONDITION_FAILED - inequivalent arg"
        with raises(
            406,
            f"{prefix} 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'",
        ):
            connection.channel().queue_declare("q", durable=True, arguments={"x-message-ttl": 1000})
        with raises(
            406,
            f"{prefix} 'x-message-ttl' for queue 'q' in vhost '/': received '2000' but current is '1000'",
        ):
            connection.channel().queue_declare("q", arguments={"x-message-ttl": 2000})
        with raises(
            406,
            f"{prefix} 'x-message-ttl' for queue 'q' in vhost '/': received none but current is "
            "the value '1000' of type 'signedint'",
        ):
            connection.channel().queue_declare("q")
        with raises(
            406,
            f"{prefix} 'x-max-length' for queue 'q' in vhost '/': received the value '5' of type "
            "'signedint' but current is none",
        ):
            connection.channel().queue_declare(
                "q", arguments={"x-message-ttl": 1000, "x-max-length": 5}
            )
        # Arguments RabbitMQ does not know are not compared.
        connection.channel().queue_declare("q", arguments={"x-message-ttl": 1000, "foo": 1})  # fmt: skip


def test_unknown_exchange_type_closes_the_connection(broker):
    connection = broker.connect()
    channel = connection.channel()
    with raises(503, "COMMAND_INVALID - invalid exchange type 'foo'"):
        channel.exchange_declare("x", "foo")
    assert connection.closed
    with pytest.raises(ConnectionClosed):
        connection.channel()


def test_binding_to_missing_things(broker):
    with broker.connect() as connection:
        connection.channel().queue_declare("q")
        with raises(404, "NOT_FOUND - no exchange 'nope' in vhost '/'"):
            connection.channel().queue_bind("q", "nope", "k")
        with raises(404, "NOT_FOUND - no queue 'nope' in vhost '/'"):
            connection.channel().queue_bind("nope", "amq.direct", "k")
        with raises(404, "NOT_FOUND - no exchange 'nope' in vhost '/'"):
            connection.channel().queue_bind("nope", "nope", "k")  # exchange reported first
        channel = connection.channel()
        channel.queue_unbind("nope", "nope", "k")  # unbinding what is not there is fine
        channel.queue_unbind("q", "amq.direct", "never-bound")
        assert not channel.closed


def test_publish_to_missing_exchange_closes_channel(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        with raises(404, "NOT_FOUND - no exchange 'nope' in vhost '/'"):
            channel.basic_publish("nope", "k", b"x")
        with pytest.raises(ChannelClosed):
            channel.queue_declare("after")


def test_exclusive_queue_is_locked_for_other_connections(broker):
    owner = broker.connect("owner")
    owner.channel().queue_declare("mine", exclusive=True)
    text = (
        "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'mine' in vhost '/'. "
        "It could be originally declared on another connection or the exclusive property value "
        "does not match that of the original declaration."
    )
    with broker.connect("other") as other:
        for action in (
            lambda ch: ch.queue_declare("mine", passive=True),
            lambda ch: ch.queue_declare("mine"),
            lambda ch: ch.queue_declare("mine", exclusive=True),
            lambda ch: ch.basic_consume("mine", lambda d: None),
            lambda ch: ch.basic_get("mine"),
            lambda ch: ch.queue_delete("mine"),
            lambda ch: ch.queue_bind("mine", "amq.direct", "k"),
            lambda ch: ch.queue_purge("mine"),
        ):
            with raises(405, text):
                action(other.channel())
        # Publishing to it is allowed.
        assert other.channel().basic_publish("", "mine", b"hi").routed_to == ["mine"]
    owner.close()
    with broker.connect() as later:
        with pytest.raises(AMQPError) as info:
            later.channel().queue_declare("mine", passive=True)
        assert info.value.reply_code == 404, "an exclusive queue goes with its connection"


def test_exclusive_consumer_conflicts(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        channel.basic_consume("q", lambda d: None, exclusive=True)
        with raises(403, "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use"):
            connection.channel().basic_consume("q", lambda d: None)
        second = connection.channel()
        second.queue_declare("r")
        second.basic_consume("r", lambda d: None)
        with raises(403, "ACCESS_REFUSED - queue 'r' in vhost '/' in exclusive use"):
            connection.channel().basic_consume("r", lambda d: None, exclusive=True)


def test_server_generated_names(channel):
    queue = channel.queue_declare("").queue
    assert queue.startswith("amq.gen-") and len(queue) > len("amq.gen-") + 10
    tag = channel.basic_consume(queue, lambda d: None)
    assert tag.startswith("amq.ctag-")


def test_empty_queue_name_means_last_declared_on_the_channel(channel):
    name = channel.queue_declare("").queue
    channel.queue_bind("", "amq.direct", "k")
    channel.basic_publish("amq.direct", "k", b"via binding")
    channel.basic_publish("", name, b"direct")
    assert channel.basic_get("").body == b"via binding"
    assert channel.queue_purge("") == 1


def test_empty_queue_name_without_a_declare_is_404(channel):
    with raises(404, "NOT_FOUND - no previously declared queue"):
        channel.basic_get("")


def test_duplicate_consumer_tag_is_a_connection_error(broker):
    connection = broker.connect()
    channel = connection.channel()
    channel.queue_declare("q")
    channel.basic_consume("q", lambda d: None, consumer_tag="dup")
    with raises(530, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'"):
        channel.basic_consume("q", lambda d: None, consumer_tag="dup")
    assert connection.closed


def test_prefetch_is_per_consumer_and_zero_is_unlimited(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        for i in range(6):
            channel.basic_publish("", "q", b"%d" % i)
        channel.basic_qos(prefetch_count=2)
        got = []
        channel.basic_consume("q", got.append)
        assert [d.delivery_tag for d in got] == [1, 2]
        channel.basic_ack(1)
        assert [d.delivery_tag for d in got] == [1, 2, 3]
        channel.basic_ack(0, multiple=True)
        assert len(got) == 5
        unlimited = connection.channel()
        unlimited.queue_declare("u")
        for _ in range(50):
            unlimited.basic_publish("", "u", b"x")
        received = []
        unlimited.basic_consume("u", received.append)
        assert len(received) == 50


def test_delivery_credit_holds_a_no_ack_backlog_in_the_queue_until_granted(broker):
    """A writer that can fall behind (the AMQP listener) limits what it is handed by credit;
    the rest stays ready in the queue, and granting credit resumes delivery in order."""
    from broker.state import delivery_cost

    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("backlog")
        for i in range(10):
            channel.basic_publish("", "backlog", b"%d" % i)
        one = delivery_cost(channel.basic_get("backlog", no_ack=True))
        channel.delivery_credit = 3 * one
        got = []
        channel.basic_consume("backlog", got.append, no_ack=True)
        assert [d.body for d in got] == [b"1", b"2", b"3"]
        assert broker.queue_depths()["backlog"][0] == 6
        channel.grant_credit(one)  # back to one delivery's worth
        assert [d.body for d in got][3:] == [b"4"]
        channel.grant_credit(100 * one)
        assert [d.body for d in got] == [b"%d" % i for i in range(1, 10)]
        assert channel.delivery_credit == 95 * one


def test_global_qos_is_shared_by_the_channel(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        for name in ("a", "b"):
            channel.queue_declare(name)
            for _ in range(5):
                channel.basic_publish("", name, b"x")
        channel.basic_qos(prefetch_count=3, global_qos=True)
        got = []
        channel.basic_consume("a", got.append)
        channel.basic_consume("b", got.append)
        assert len(got) == 3


def test_delivery_tags_are_per_channel(broker):
    with broker.connect() as connection:
        first, second = connection.channel(), connection.channel()
        first.queue_declare("q")
        for _ in range(4):
            first.basic_publish("", "q", b"x")
        assert first.basic_get("q").delivery_tag == 1
        assert second.basic_get("q").delivery_tag == 1
        assert first.basic_get("q").delivery_tag == 2


@pytest.mark.parametrize(
    "settle",
    [
        lambda ch: ch.basic_ack(5),
        lambda ch: ch.basic_nack(5),
        lambda ch: ch.basic_reject(5),
        lambda ch: ch.basic_ack(5, multiple=True),
    ],
    ids=["ack", "nack", "reject", "ack-multiple"],
)
def test_unknown_delivery_tag_closes_channel_and_requeues(broker, settle):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        channel.basic_publish("", "q", b"held")
        held = channel.basic_get("q")
        assert held.delivery_tag == 1
        with raises(406, "PRECONDITION_FAILED - unknown delivery tag 5"):
            settle(channel)
        assert channel.closed
        again = connection.channel().basic_get("q", no_ack=True)
        assert again.body == b"held" and again.redelivered


def test_double_ack_and_tag_zero(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.basic_ack(0, multiple=True)  # nothing outstanding: fine
        channel.queue_declare("q")
        channel.basic_publish("", "q", b"x")
        tag = channel.basic_get("q").delivery_tag
        channel.basic_ack(tag)
        with raises(406, f"PRECONDITION_FAILED - unknown delivery tag {tag}"):
            channel.basic_ack(tag)
        with raises(406, "PRECONDITION_FAILED - unknown delivery tag 0"):
            connection.channel().basic_ack(0)


def test_multiple_covers_every_tag_up_to_n(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        for i in range(5):
            channel.basic_publish("", "q", b"%d" % i)
        tags = [channel.basic_get("q").delivery_tag for _ in range(5)]
        channel.basic_nack(tags[2], multiple=True, requeue=True)
        info = channel.queue_declare("q", passive=True)
        assert info.message_count == 3
        assert len(channel.unacked) == 2


def test_requeue_goes_back_to_original_position_with_redelivered(channel):
    channel.queue_declare("q")
    for i in range(1, 6):
        channel.basic_publish("", "q", b"m%d" % i)
    got = {channel.basic_get("q").body: None for _ in range(5)}
    tags = dict(zip(got, range(1, 6), strict=True))
    channel.basic_nack(tags[b"m4"], requeue=True)
    channel.basic_nack(tags[b"m2"], requeue=True)
    channel.basic_publish("", "q", b"m6")
    drained = []
    while (d := channel.basic_get("q", no_ack=True)) is not None:
        drained.append((d.body, d.redelivered))
    assert drained == [(b"m2", True), (b"m4", True), (b"m6", False)]


def test_requeue_restores_order_whatever_order_the_rejects_come_in(channel):
    channel.queue_declare("q")
    for i in range(1, 6):
        channel.basic_publish("", "q", b"m%d" % i)
    for tag in (1, 2, 3):
        assert channel.basic_get("q").delivery_tag == tag
    for tag in (3, 1, 2):
        channel.basic_reject(tag, requeue=True)
    drained = []
    while (d := channel.basic_get("q", no_ack=True)) is not None:
        drained.append((d.body, d.redelivered))
    assert drained == [
        (b"m1", True),
        (b"m2", True),
        (b"m3", True),
        (b"m4", False),
        (b"m5", False),
    ]


def test_cancel_keeps_unacked_but_channel_close_requeues(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        for _ in range(5):
            channel.basic_publish("", "q", b"x")
        channel.basic_qos(2)
        tag = channel.basic_consume("q", lambda d: None)
        assert channel.queue_declare("q", passive=True).message_count == 3
        channel.basic_cancel(tag)
        assert channel.queue_declare("q", passive=True).message_count == 3
        channel.basic_ack(1)  # still acknowledgeable after the cancel
        channel.close()
        assert connection.channel().queue_declare("q", passive=True).message_count == 4


def test_auto_delete_queue_goes_with_its_last_consumer(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("never", auto_delete=True)
        channel.basic_get("never")
        assert channel.queue_declare("never", passive=True)  # never had a consumer: stays
        channel.queue_declare("ad", auto_delete=True)
        first = channel.basic_consume("ad", lambda d: None)
        second = channel.basic_consume("ad", lambda d: None)
        channel.basic_cancel(first)
        assert channel.queue_declare("ad", passive=True).consumer_count == 1
        channel.basic_cancel(second)
        with raises(404, "NOT_FOUND - no queue 'ad' in vhost '/'"):
            channel.queue_declare("ad", passive=True)


def test_mandatory_unroutable_is_returned_before_the_confirm(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.confirm_select()
        order = []
        channel.on_return = lambda returned: order.append(("return", returned.reply_code))
        channel.on_confirm = lambda seq, ack, multiple: order.append(
            ("ack" if ack else "nack", seq)
        )
        result = channel.basic_publish("amq.direct", "nowhere", b"x", mandatory=True)
        assert result.returned and result.confirmed and result.routed_to == []
        assert order == [("return", 312), ("ack", 1)]
        channel.basic_publish("amq.direct", "nowhere", b"x")  # not mandatory: acked, no return
        assert order[-1] == ("ack", 2)


def test_message_count_counts_ready_messages_only(channel):
    channel.queue_declare("q")
    for _ in range(4):
        channel.basic_publish("", "q", b"x")
    assert channel.basic_get("q").message_count == 3
    assert channel.queue_declare("q", passive=True).message_count == 3
    assert channel.basic_get("q", no_ack=True).message_count == 2
    channel.basic_reject(1, requeue=True)
    assert channel.queue_declare("q", passive=True).message_count == 3


@pytest.mark.parametrize(
    ("expiration", "detail"),
    [
        ("abc", "no_integer"),
        ("-1", "{value_negative,-1}"),
        ("1.5", '{leftover_string,".5"}'),
        ("", "no_integer"),
        (" 10", "no_integer"),
    ],
)
def test_bad_per_message_expiration_is_406(broker, expiration, detail):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        with raises(406, f"PRECONDITION_FAILED - invalid expiration '{expiration}': {detail}"):
            channel.basic_publish("", "q", b"x", Properties(expiration=expiration))


@pytest.mark.parametrize(
    ("arguments", "detail"),
    [
        ({"x-max-length": -1}, "invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-1}"),
        ({"x-max-length": "1"}, "invalid arg 'x-max-length' for queue 'q' in vhost '/': \"expected integer, got longstr\""),
        ({"x-message-ttl": -1}, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"),
        ({"x-overflow": "bogus"}, "invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow"),
        ({"x-expires": 0}, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}"),
        ({"x-max-priority": 300}, "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,300}"),
        ({"x-dead-letter-exchange": 1}, "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'"),
        ({"x-dead-letter-routing-key": "k"}, "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined"),
    ],
)  # fmt: skip
def test_bad_queue_arguments_are_406(broker, arguments, detail):
    with broker.connect() as connection:
        with raises(406, f"PRECONDITION_FAILED - {detail}"):
            connection.channel().queue_declare("q", arguments=arguments)


def test_delete_if_unused_and_if_empty(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        channel.basic_consume("q", lambda d: None)
        with raises(406, "PRECONDITION_FAILED - queue 'q' in vhost '/' in use"):
            channel.queue_delete("q", if_unused=True)
        channel = connection.channel()
        channel.queue_declare("full")
        channel.basic_publish("", "full", b"x")
        with raises(406, "PRECONDITION_FAILED - queue 'full' in vhost '/' not empty"):
            channel.queue_delete("full", if_empty=True)
        channel = connection.channel()
        assert channel.queue_delete("full") == 1
        assert channel.queue_delete("missing") == 0  # deleting what is not there is fine
        channel.exchange_declare("x", "direct")
        channel.queue_bind("q", "x", "k")
        with raises(406, "PRECONDITION_FAILED - exchange 'x' in vhost '/' in use"):
            channel.exchange_delete("x", if_unused=True)
        channel = connection.channel()
        channel.exchange_delete("missing")


def test_deleting_a_queue_cancels_its_consumers(channel):
    channel.queue_declare("q")
    cancelled = []
    channel.basic_consume("q", lambda d: None, consumer_tag="c1", on_cancel=cancelled.append)
    channel.queue_delete("q")
    assert cancelled == ["c1"]
    assert channel.consumers == {}


def test_exchange_to_exchange_bindings(channel):
    channel.exchange_declare("front", "topic")
    channel.exchange_declare("eu", "fanout")
    channel.exchange_bind("eu", "front", "*.eu.#")
    channel.queue_declare("eu-orders")
    channel.queue_bind("eu-orders", "eu")
    assert channel.basic_publish("front", "order.eu.paid", b"x").routed_to == ["eu-orders"]
    assert channel.basic_publish("front", "order.us.paid", b"x").routed_to == []


def test_auto_delete_exchange_goes_with_its_last_binding(channel):
    channel.exchange_declare("tmp", "direct", auto_delete=True)
    channel.queue_declare("q")
    channel.queue_bind("q", "tmp", "k")
    channel.queue_unbind("q", "tmp", "k")
    with raises(404, "NOT_FOUND - no exchange 'tmp' in vhost '/'"):
        channel.exchange_declare("tmp", passive=True)


def test_internal_exchange_refuses_publishes(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.exchange_declare("inner", "fanout", internal=True)
        with raises(
            403, "ACCESS_REFUSED - cannot publish to internal exchange 'inner' in vhost '/'"
        ):
            channel.basic_publish("inner", "", b"x")


def test_round_robin_between_consumers(channel):
    channel.queue_declare("q")
    first, second = [], []
    channel.basic_consume("q", first.append, no_ack=True)
    channel.basic_consume("q", second.append, no_ack=True)
    for i in range(6):
        channel.basic_publish("", "q", b"%d" % i)
    assert [d.body for d in first] == [b"0", b"2", b"4"]
    assert [d.body for d in second] == [b"1", b"3", b"5"]


def test_consumer_priority_goes_first_and_lower_ones_get_the_overflow(broker):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        low, high_a, high_b = [], [], []
        channel.basic_consume("q", low.append, arguments={"x-priority": -1})
        channel.basic_qos(prefetch_count=2)
        high = connection.channel()
        high.basic_qos(prefetch_count=2)
        high.basic_consume("q", high_a.append, arguments={"x-priority": 10})
        high.basic_consume("q", high_b.append, arguments={"x-priority": 10})
        for i in range(6):
            channel.basic_publish("", "q", b"%d" % i)
        # Equals take turns until both are full; only then does the low one get messages.
        assert [d.body for d in high_a] == [b"0", b"2"]
        assert [d.body for d in high_b] == [b"1", b"3"]
        assert [d.body for d in low] == [b"4", b"5"]
        high.basic_ack(high_a[0].delivery_tag)
        channel.basic_publish("", "q", b"6")
        assert high_a[-1].body == b"6", "room at the top is used before the low consumer"
        assert [c["priority"] for c in broker.snapshot()["consumers"]] == [-1, 10, 10]


@pytest.mark.parametrize(
    ("value", "got"), [("high", "longstr"), (1.5, "double"), (None, "void"), (True, "bool")]
)
def test_x_priority_must_be_an_integer(broker, value, got):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        text = (
            "PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'q' in vhost '/': "
            f'"expected integer, got {got}"'
        )
        with raises(406, text):
            channel.basic_consume("q", lambda d: None, arguments={"x-priority": value})


def test_single_active_consumer_gets_everything_until_it_goes(broker):
    with broker.connect() as connection:
        queue_args = {"x-single-active-consumer": True}
        setup = connection.channel()
        setup.queue_declare("q", arguments=queue_args)
        first, second = connection.channel(), connection.channel()
        first.basic_qos(prefetch_count=1)
        got: list[tuple[str, bytes, bool]] = []
        first.basic_consume("q", lambda d: got.append(("first", d.body, d.redelivered)))
        tag = second.basic_consume(
            "q",
            lambda d: got.append(("second", d.body, d.redelivered)),
            arguments={"x-priority": 10},  # the first consumer takes the turn, priority or not
        )
        for i in range(3):
            setup.basic_publish("", "q", b"%d" % i)
        assert got == [("first", b"0", False)], "the other consumer waits, even with room"
        statuses = {c["consumer_tag"]: c["activity_status"] for c in broker.snapshot()["consumers"]}
        assert statuses[tag] == "waiting" and list(statuses.values()).count("single_active") == 1
        with raises(403, "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use"):
            connection.channel().basic_consume("q", lambda d: None, exclusive=True)
        first.close()  # its unacked message goes back first, then the next consumer takes over
        assert got[1:] == [("second", b"0", True), ("second", b"1", False), ("second", b"2", False)]
        third = connection.channel()
        third_got: list[bytes] = []
        third.basic_consume("q", lambda d: third_got.append(d.body))
        second.basic_cancel(tag)  # with three messages unacked: the turn waits for them
        setup.basic_publish("", "q", b"3")
        assert third_got == []
        assert [c["activity_status"] for c in broker.snapshot()["consumers"]] == ["waiting"]
        second.basic_ack(0, multiple=True)
        assert third_got == [b"3"]
        assert [c["activity_status"] for c in broker.snapshot()["consumers"]] == ["single_active"]


@pytest.mark.parametrize(("value", "got"), [("yes", "longstr"), (1, "signedint"), (None, "void")])
def test_x_single_active_consumer_must_be_a_boolean(channel, value, got):
    text = (
        "PRECONDITION_FAILED - invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': "
        f"{{unacceptable_type,{got}}}"
    )
    with raises(406, text):
        channel.queue_declare("q", arguments={"x-single-active-consumer": value})


def test_errors_teach(broker):
    with broker.connect() as connection:
        with pytest.raises(AMQPError) as info:
            connection.channel().queue_declare("orders", passive=True)
        assert info.value.hint == "declare the queue first"
        assert info.value.to_dict()["error"] == "NOT_FOUND"


def test_cc_and_bcc_headers_add_routing_keys_and_bcc_is_hidden(channel):
    channel.exchange_declare("logs", "direct")
    for queue in ("main", "copy", "secret"):
        channel.queue_declare(queue)
        channel.queue_bind(queue, "logs", queue)
    headers = {"CC": ["copy"], "BCC": ["secret"]}
    result = channel.basic_publish("logs", "main", b"x", Properties(headers=headers))
    assert sorted(result.routed_to) == ["copy", "main", "secret"]
    assert result.message_id is not None


@pytest.mark.parametrize(
    "properties",
    [
        Properties(headers={"CC": "not-a-list"}),
        Properties(expiration=5000),
        Properties(priority=-1),
        Properties(priority=256),
        Properties(priority="5"),
    ],
    ids=[
        "cc-not-a-list",
        "expiration-not-a-string",
        "priority-negative",
        "priority-256",
        "priority-str",
    ],
)
def test_badly_typed_routing_properties_are_406(broker, properties):
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("q")
        with pytest.raises(AMQPError) as info:
            channel.basic_publish("", "q", b"x", properties)
        assert info.value.reply_code == 406 and channel.closed
        assert broker.queue_depths()["q"] == (0, 0, 0), "nothing was enqueued"


def test_a_deep_backlog_is_handed_over_in_rounds_in_order(broker):
    broker.dispatch_batch = 3
    with broker.connect() as connection:
        channel = connection.channel()
        channel.queue_declare("backlog")
        for i in range(10):
            channel.basic_publish("", "backlog", b"%d" % i)
        got = []
        # Each round runs after the lock is released: a sink can use the broker between rounds.
        channel.basic_consume(
            "backlog",
            lambda d: got.append((d.body, broker.queue_depths()["backlog"][0])),
            no_ack=True,
        )
        assert [body for body, _ in got] == [b"%d" % i for i in range(10)]
        assert [ready for _, ready in got][:4] == [7, 7, 7, 4], "three per round"
        assert broker.queue_depths()["backlog"] == (0, 0, 1)
        assert not broker.vhosts["/"].queues["backlog"].dispatch_pending


def test_direct_reply_to_answers_reach_the_requesting_channel_only_while_it_consumes(broker):
    """amq.rabbitmq.reply-to in-process: the same rewrite and routing as over AMQP, the reply
    consumer is listed with the others, and a closed channel leaves no route behind."""
    with broker.connect("rpc client") as client_connection, broker.connect("rpc server") as server:
        client, worker = client_connection.channel(), server.channel()
        worker.queue_declare("rpc")
        replies = []
        client.basic_consume("amq.rabbitmq.reply-to", replies.append, no_ack=True)
        client.basic_publish("", "rpc", b"ping", Properties(reply_to="amq.rabbitmq.reply-to"))
        request = worker.basic_get("rpc", no_ack=True)
        reply_key = request.message.properties.reply_to
        assert reply_key.startswith("amq.rabbitmq.reply-to.")
        consumers = broker.snapshot()["consumers"]
        assert [c["queue"] for c in consumers] == [reply_key]
        assert "amq.rabbitmq.reply-to" not in [q["name"] for q in broker.snapshot()["queues"]]
        assert worker.basic_publish("", reply_key, b"pong").routed_to == [reply_key]
        assert [d.body for d in replies] == [b"pong"]
        types = [e.type for e in broker.events.recent() if e.get("queue") == reply_key]
        assert types[-2:] == ["enqueued", "delivered"]
        client.close()
        assert worker.basic_publish("", reply_key, b"late").routed_to == []
        assert broker.snapshot()["consumers"] == []
