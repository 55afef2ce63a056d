"""Topic and headers matching, checked by hypothesis against small independent oracles written
straight from RabbitMQ's rules (and the cases probed on RabbitMQ 3.10.8)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.exchanges import Binding
from broker.exchanges.headers import HeadersRouter
from broker.exchanges.topic import TopicRouter, explain_topic


def topic_oracle(pattern: str, key: str) -> bool:
    """`*` is one word, `#` is zero or more; words split on '.', '' has no words."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return match(p[1:], k) or (bool(k) and match(p, k[1:]))
        return bool(k) and p[0] in ("*", k[0]) and match(p[1:], k[1:])

    return match(pattern.split(".") if pattern else [], key.split(".") if key else [])


key_words = st.sampled_from(["a", "b", "c", ""])
pattern_words = st.sampled_from(["a", "b", "c", "", "*", "#"])
keys = st.lists(key_words, max_size=5).map(".".join)
patterns = st.lists(pattern_words, max_size=5).map(".".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(patterns, min_size=1, max_size=25, unique=True), keys)
def test_topic_trie_matches_the_oracle(binding_keys, routing_key):
    router = TopicRouter()
    bindings = [Binding("t", f"q{i}", "queue", key) for i, key in enumerate(binding_keys)]
    for binding in bindings:
        router.add(binding)
    routed = {b.routing_key for b in router.route(routing_key, {})}
    assert routed == {k for k in binding_keys if topic_oracle(k, routing_key)}


@settings(max_examples=300, deadline=None)
@given(patterns, keys)
def test_topic_explanation_agrees_with_matching(pattern, routing_key):
    reason = explain_topic(pattern, routing_key)
    assert (reason is None) == topic_oracle(pattern, routing_key)
    if reason is not None:
        assert reason.startswith(f"`{pattern}` vs `{routing_key}`: ")


@settings(max_examples=100, deadline=None)
@given(st.lists(patterns, min_size=1, max_size=10, unique=True), keys)
def test_topic_bindings_can_be_removed(binding_keys, routing_key):
    router = TopicRouter()
    bindings = [Binding("t", f"q{i}", "queue", key) for i, key in enumerate(binding_keys)]
    for binding in bindings:
        router.add(binding)
    for binding in bindings[::2]:
        router.remove(binding)
    kept = {b.routing_key for b in bindings[1::2]}
    routed = {b.routing_key for b in router.route(routing_key, {})}
    assert routed == {k for k in kept if topic_oracle(k, routing_key)}


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("#", ["", "a", "a.b", "a..b"], []),
        ("*", ["a"], ["", "a.b"]),
        ("a.#", ["a", "a.b", "a..b", "a."], ["b.a", ""]),
        ("#.a", ["a", ".a", "b.a"], ["a.b"]),
        ("a.*.#", ["a.b", "a..b", "a."], ["a"]),
        ("a.*.b", ["a..b", "a.x.b"], ["a.b"]),
        ("#.*", ["a", "a.b"], [""]),
        ("", [""], ["a"]),
    ],
)
def test_topic_cases_probed_on_rabbitmq(pattern, matches, misses):
    for key in matches:
        assert topic_oracle(pattern, key) and explain_topic(pattern, key) is None, key
    for key in misses:
        assert not topic_oracle(pattern, key) and explain_topic(pattern, key) is not None, key


def test_topic_explanation_names_the_word():
    assert (
        explain_topic("*.eu.#", "order.us.paid")
        == "`*.eu.#` vs `order.us.paid`: word 2 `eu` ≠ `us`"
    )


def headers_oracle(arguments: dict, headers: dict) -> bool:
    mode = arguments.get("x-match", "all")
    with_x = mode.endswith("-with-x")
    wanted = {
        k: v for k, v in arguments.items() if k != "x-match" and (with_x or not k.startswith("x-"))
    }

    def satisfied(name, value) -> bool:
        if name not in headers:
            return False
        if value is None:
            return headers[name] is not None
        return type(headers[name]) is type(value) and headers[name] == value

    results = [satisfied(k, v) for k, v in wanted.items()]
    return all(results) if mode.startswith("all") else any(results)


header_names = st.sampled_from(["a", "b", "x-foo"])
header_values = st.one_of(st.sampled_from([1, 2, "1", "2", True]), st.none())
header_tables = st.dictionaries(header_names, header_values, max_size=3)
modes = st.sampled_from(["all", "any", "all-with-x", "any-with-x", None])


@settings(max_examples=400, deadline=None)
@given(modes, header_tables, header_tables)
def test_headers_matching_against_the_oracle(mode, binding_args, message_headers):
    arguments = dict(binding_args)
    if mode is not None:
        arguments["x-match"] = mode
    router = HeadersRouter()
    binding = Binding("h", "q", "queue", "", arguments)
    router.validate(binding)
    router.add(binding)
    expected = headers_oracle(arguments, message_headers)
    assert bool(router.route("", message_headers)) == expected
    assert (router.explain(binding, "", message_headers) is None) == expected


@pytest.mark.parametrize(
    ("arguments", "matched"),
    [
        ({"x-match": "all", "a": 1, "b": 2}, ["M1"]),
        ({"x-match": "any", "a": 1, "b": 2}, ["M1", "M2", "M3", "M9"]),
        ({"a": 1, "b": 2}, ["M1"]),
        ({"x-match": "all", "a": 1, "x-foo": "bar"}, ["M1", "M2", "M3", "M9"]),
        ({"x-match": "any", "x-foo": "bar"}, []),
        ({"x-match": "all-with-x", "a": 1, "x-foo": "bar"}, ["M3"]),
        ({"x-match": "any-with-x", "x-foo": "bar"}, ["M3", "M4"]),
        ({"x-match": "all", "a": "1"}, ["M7"]),
        ({"x-match": "all", "a": None}, ["M1", "M2", "M3", "M7", "M9"]),
    ],
)
def test_headers_cases_probed_on_rabbitmq(arguments, matched):
    messages = {
        "M1": {"a": 1, "b": 2},
        "M2": {"a": 1},
        "M3": {"a": 1, "x-foo": "bar"},
        "M4": {"x-foo": "bar"},
        "M5": {},
        "M7": {"a": "1"},
        "M8": {"a": None},
        "M9": {"a": 1, "b": 3},
    }
    router = HeadersRouter()
    router.add(Binding("h", "q", "queue", "", arguments))
    assert [name for name, headers in messages.items() if router.route("", headers)] == matched
