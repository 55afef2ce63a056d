"""An error's hint: English as before, plus the template and values the web layer translates."""

from __future__ import annotations

import pytest

from broker import Broker
from broker.errors import AMQPError
from broker.translatable import Term


def test_a_not_found_hint_is_a_template_with_the_kind_as_a_term(broker: Broker) -> None:
    with broker.connect() as connection:
        with pytest.raises(AMQPError) as info:
            connection.channel().exchange_declare("orders", passive=True)
    error = info.value
    assert error.hint == "declare the exchange first"
    assert error.hint_template == "declare the %(kind)s first"
    assert error.hint_args == {"kind": "exchange"}
    assert isinstance(error.hint_args["kind"], Term)
    assert error.to_dict()["hint"] == "declare the exchange first"


def test_an_inequivalent_flag_hint_keeps_its_values(broker: Broker) -> None:
    with broker.connect() as connection:
        connection.channel().queue_declare("orders", durable=True)
        with pytest.raises(AMQPError) as info:
            connection.channel().queue_declare("orders", durable=False)
    error = info.value
    assert error.hint == (
        "the queue already exists with durable=true; declare it the same way, or delete it first"
    )
    assert error.hint_args == {"kind": "queue", "flag": "durable", "current": "true"}
    assert error.hint_template % error.hint_args == error.hint


def test_a_plain_hint_has_no_values(broker: Broker) -> None:
    with broker.connect() as connection:
        with pytest.raises(AMQPError) as info:
            connection.channel().exchange_declare("", "direct")
    assert info.value.hint_args == {}
    assert info.value.hint == info.value.hint_template
    assert info.value.hint.startswith('the default exchange ("")')
