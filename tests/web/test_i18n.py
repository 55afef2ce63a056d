"""The class's language: catalogs complete, the language chosen as a browser would expect."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from broker import Broker

ROOT = Path(__file__).resolve().parent.parent.parent
spec = importlib.util.spec_from_file_location("catalogs", ROOT / "scripts" / "catalogs.py")
catalogs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(catalogs)


@pytest.fixture
def app(broker: Broker) -> Flask:
    return create_app({"BROKER": broker, "TESTING": True})


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_every_message_in_the_code_has_its_chinese():
    """A change that adds English text without its translation (or with other placeholders,
    or 'translated' into the same English) fails here."""
    assert catalogs.problems() == []


def test_a_message_is_translated_once():
    """Each message lives in one area's catalog, so two areas cannot disagree about it."""
    seen: dict[str, str] = {}
    for area, catalog in catalogs.catalogs().items():
        for message in catalog:
            if message.id:
                assert message.id not in seen, (
                    f"{message.id!r} in {seen.get(message.id)} and {area}"
                )
                seen[message.id] = area


def test_the_browser_language_decides_then_the_switch(app: Flask):
    client = app.test_client()
    assert html_lang(client.get("/").get_data(as_text=True)) == "en"
    chinese = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    html = chinese.get_data(as_text=True)
    assert html_lang(html) == "zh-CN"
    assert '<span data-i18n="Queues">队列</span>' in html
    assert client.post("/lang/en").status_code == 204  # the switch: remembered in a cookie
    again = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert html_lang(again.get_data(as_text=True)) == "en"
    assert html_lang(client.get("/?lang=zh").get_data(as_text=True)) == "zh-CN"


def test_the_pages_scripts_get_the_same_catalog(app: Flask):
    client = app.test_client()
    catalog = client.get("/i18n/zh.json").get_json()
    assert catalog["lang"] == "zh"
    assert catalog["messages"]["Exchanges"] == "交换机"
    assert client.get("/i18n/en.json").get_json() == {"lang": "en", "messages": {}}
    assert client.get("/i18n/fr.json").status_code == 404
    assert client.post("/lang/fr").status_code == 404


def test_a_plain_link_to_the_switch_goes_back_only_to_this_site(app: Flask):
    client = app.test_client()
    back = client.get("/lang/zh", headers={"Referer": "http://localhost/queues"})
    assert (back.status_code, back.headers["Location"]) == (302, "http://localhost/queues")
    away = client.get("/lang/zh", headers={"Referer": "https://evil.example/"})
    assert away.headers["Location"] == "/"


def test_the_glossary_pairs_every_concept_in_both_languages(app: Flask):
    from lessons.concepts import CONCEPTS

    client = app.test_client()
    chinese = client.get("/api/glossary", headers={"Accept-Language": "zh-CN"}).get_json()
    english = client.get("/api/glossary").get_json()
    assert [e["id"] for e in chinese] == [c.id for c in CONCEPTS]
    assert len(CONCEPTS) == 25
    exchange = next(e for e in chinese if e["id"] == "exchange")
    assert (exchange["chinese"], exchange["english"]) == ("交换机", "exchange")
    assert exchange["meaning"] == "生产者发布消息的地方；它根据绑定把每条消息路由到队列。"
    assert next(e for e in english if e["id"] == "exchange")["meaning"].startswith("Where")
    html = client.get("/glossary?lang=zh").get_data(as_text=True)
    assert 'data-i18n="Where producers publish;' in html  # the page can switch in place
    assert '<td lang="zh-CN" class="term">事件循环阻塞</td>' in html


def test_a_lang_link_is_remembered_so_the_pages_api_calls_follow_it(app: Flask):
    client = app.test_client()
    client.get("/queues?lang=zh")
    missing = client.get("/api/queues/%2F/nowhere")
    assert missing.get_json()["reason"] == "NOT_FOUND - no queue 'nowhere' in vhost '/'"
    assert html_lang(client.get("/").get_data(as_text=True)) == "zh-CN"
