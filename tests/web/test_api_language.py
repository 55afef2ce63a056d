"""The API's errors in the reader's language: the hint follows the request's language, while
RabbitMQ's words (error, reason, reply_code) stay exactly as the real broker says them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from broker import Broker
from broker.translatable import N_, Term
from web.toolkit import say

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
SHAPE = {"error", "reason", "reply_code", "hint"}


@pytest.fixture
def app(broker: Broker) -> Flask:
    return create_app({"BROKER": broker, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()
    app.extensions["queuelab.simulations"].stop_all()


def missing_queue(client: FlaskClient, headers: dict[str, str]):
    return client.get("/api/queues/%2F/orders", headers=headers)


def inequivalent_arg(client: FlaskClient, headers: dict[str, str]):
    client.put("/api/queues/%2F/orders", json={"durable": True})
    return client.put("/api/queues/%2F/orders", json={"durable": False}, headers=headers)


def default_exchange(client: FlaskClient, headers: dict[str, str]):
    return client.put("/api/exchanges/%2F/amq.default", json={"type": "direct"}, headers=headers)


def bad_body(client: FlaskClient, headers: dict[str, str]):
    return client.put(
        "/api/queues/%2F/orders", data="[1]", content_type="application/json", headers=headers
    )


CASES = {
    "404 missing queue": (
        missing_queue,
        404,
        "NOT_FOUND - no queue 'orders' in vhost '/'",
        "declare the queue first",
        "请先声明该队列",
    ),
    "406 inequivalent arg": (
        inequivalent_arg,
        406,
        "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'orders' in vhost '/': "
        "received 'false' but current is 'true'",
        "the queue already exists with durable=true; declare it the same way, or delete it first",
        "该队列已存在，且 durable=true；请以相同方式声明它，或先删除它",
    ),
    "403 default exchange": (
        default_exchange,
        403,
        "ACCESS_REFUSED - operation not permitted on the default exchange",
        'the default exchange ("") routes to the queue named by the routing key by itself; '
        "publish to it, but do not declare, bind or delete it",
        '默认交换机（""）会自己把消息路由到与路由键同名的队列；可以向它发布，但不要声明、绑定或删除它',
    ),
    "400 bad body": (
        bad_body,
        400,
        "the body must be a JSON object ({...})",
        "send a JSON object ({...}) with the header Content-Type: application/json",
        "请发送一个 JSON 对象（{...}），并带上请求头 Content-Type: application/json",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_hint_follows_accept_language_and_rabbitmqs_words_do_not(
    client: FlaskClient, case: str
) -> None:
    request, status, reason, english, chinese = CASES[case]
    answers = {}
    for lang, headers in (("en", {}), ("zh", ZH)):
        response = request(client, headers)
        assert response.status_code == status
        answers[lang] = response.get_json()
        assert set(answers[lang]) == SHAPE
    en, zh = answers["en"], answers["zh"]
    assert en["reason"] == zh["reason"] == reason
    assert en["reply_code"] == zh["reply_code"] == status
    assert en["error"] == zh["error"]
    assert en["hint"] == english
    assert zh["hint"] == chinese


def test_the_kind_in_a_hint_is_translated_as_its_own_word(client: FlaskClient) -> None:
    response = client.post("/api/exchanges/%2F/orders/publish", json={"payload": "x"}, headers=ZH)
    body = response.get_json()
    assert response.status_code == 404
    assert body["reason"] == "NOT_FOUND - no exchange 'orders' in vhost '/'"
    assert body["hint"] == "请先声明该交换机"


def test_an_interpolated_argument_hint_is_translated(client: FlaskClient) -> None:
    client.put("/api/queues/%2F/jobs", json={})
    response = client.put(
        "/api/queues/%2F/jobs", json={"arguments": {"x-max-length": 3}}, headers=ZH
    )
    body = response.get_json()
    assert "inequivalent arg 'x-max-length' for queue 'jobs'" in body["reason"]
    assert body["hint"] == "队列的参数不能更改：请用相同的参数声明它，或先删除它"


@pytest.mark.parametrize(
    "choose",
    [
        lambda client: client.get("/api/queues/%2F/orders?lang=zh"),
        lambda client: (
            client.set_cookie("lang", "zh"),
            client.get("/api/queues/%2F/orders"),
        )[1],
    ],
    ids=["?lang=", "cookie"],
)
def test_lang_and_the_cookie_choose_the_hints_language(
    client: FlaskClient, choose: Callable
) -> None:
    assert choose(client).get_json()["hint"] == "请先声明该队列"


def test_no_language_means_english_hints(client: FlaskClient) -> None:
    assert missing_queue(client, {}).get_json()["hint"] == "declare the queue first"
    other = {"Accept-Language": "fr-FR"}
    assert missing_queue(client, other).get_json()["hint"] == "declare the queue first"


@pytest.mark.parametrize(
    ("path", "body", "reason", "chinese"),
    [
        (
            "/api/simulations",
            {"kind": "consumer", "queue": "orders", "prefetch": 1.5},
            "'prefetch' must be a whole number",
            "'prefetch' 必须是整数",
        ),
        (
            "/api/simulations",
            {"kind": "consumer", "queue": "orders", "failure_rate": 2},
            "'failure_rate' must be between 0 and 1",
            "'failure_rate' 必须在 0 到 1 之间",
        ),
        (
            "/api/simulations",
            {"kind": "robot"},
            "'kind' must be 'consumer' or 'producer'",
            "'kind' 必须是 'consumer'（消费者）或 'producer'（生产者）",
        ),
        (
            "/api/simulations",
            {"kind": "producer", "exchange": "amq.direct", "properties": {"priority": "hi"}},
            "property 'priority' must be a whole number",
            "属性 'priority' 必须是整数",
        ),
        (
            "/api/exchanges/%2F/amq.direct/publish",
            {"payload": "x", "properties": {"colour": "red"}},
            None,
            "未知的消息属性 'colour'；AMQP 的属性有：",
        ),
    ],
)
def test_our_own_refusals_keep_their_reason_and_explain_in_the_readers_language(
    client: FlaskClient, path: str, body: dict, reason: str | None, chinese: str
) -> None:
    """Simulation options and message properties: the reason is the English sentence in every
    language; in Chinese the hint says it in Chinese (in English it would only repeat it)."""
    en = client.post(path, json=body)
    zh = client.post(path, json=body, headers=ZH)
    assert en.status_code == zh.status_code == 400
    assert set(en.get_json()) == set(zh.get_json()) == SHAPE
    assert en.get_json()["reason"] == zh.get_json()["reason"]
    if reason is not None:
        assert en.get_json()["reason"] == reason
    assert en.get_json()["hint"] == ""
    assert zh.get_json()["hint"].startswith(chinese)


def test_only_terms_are_translated_in_a_hint_user_data_is_not(app: Flask) -> None:
    """A value that happens to be a word of ours (a queue named "queue") stays as it is."""
    with app.test_request_context(headers=ZH):
        template = N_("declare the %(kind)s first")
        assert say(template, {"kind": Term("queue")}) == "请先声明该队列"
        assert say(template, {"kind": "queue"}) == "请先声明该queue"
        assert say("") == ""
