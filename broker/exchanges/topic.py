"""Topic exchange: binding keys are patterns over dot-separated words.

`*` matches exactly one word and `#` matches zero or more. Bindings live in a trie of words, as
in RabbitMQ, so the cost of routing grows with the length of the key, not the number of bindings.
"""

from __future__ import annotations

from typing import Any

from broker.exchanges.base import Binding
from broker.translatable import N_, Phrase, phrase


def split_words(key: str) -> list[str]:
    """Words split on '.'; the empty key has no words at all (so only `#` or `` match it)."""
    return key.split(".") if key else []


class _Node:
    __slots__ = ("children", "bindings")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.bindings: list[Binding] = []


class TopicRouter:
    type_name = "topic"

    def __init__(self) -> None:
        self._root = _Node()

    def validate(self, binding: Binding) -> None:
        return None

    def add(self, binding: Binding) -> None:
        node = self._root
        for word in split_words(binding.routing_key):
            node = node.children.setdefault(word, _Node())
        node.bindings.append(binding)

    def remove(self, binding: Binding) -> None:
        path = [self._root]
        for word in split_words(binding.routing_key):
            child = path[-1].children.get(word)
            if child is None:
                return
            path.append(child)
        if binding in path[-1].bindings:
            path[-1].bindings.remove(binding)
        words = split_words(binding.routing_key)
        # Prune empty branches so a trie that saw many short-lived bindings stays small.
        for depth in range(len(words), 0, -1):
            node = path[depth]
            if node.bindings or node.children:
                break
            del path[depth - 1].children[words[depth - 1]]

    def route(self, routing_key: str, headers: dict[str, Any]) -> list[Binding]:
        found: dict[int, Binding] = {}
        _collect(self._root, split_words(routing_key), 0, found)
        return list(found.values())

    def explain(self, binding: Binding, routing_key: str, headers: dict[str, Any]) -> Phrase | None:
        return explain_topic(binding.routing_key, routing_key)


def _collect(node: _Node, words: list[str], i: int, found: dict[int, Binding]) -> None:
    if i == len(words):
        for binding in node.bindings:
            found[id(binding)] = binding
    else:
        literal = node.children.get(words[i])
        if literal is not None:
            _collect(literal, words, i + 1, found)
        star = node.children.get("*")
        if star is not None and star is not literal:
            _collect(star, words, i + 1, found)
    hash_node = node.children.get("#")
    if hash_node is not None:
        for j in range(i, len(words) + 1):
            _collect(hash_node, words, j, found)


# Where a walk failed: how far through the key it got, and why (a message id and its arguments,
# made a phrase only for the failure reported).
Failure = tuple[int, str, dict[str, Any]]


def explain_topic(pattern: str, routing_key: str) -> Phrase | None:
    """None on a match; else the first place the pattern and the key part ways, e.g.
    "`*.eu.#` vs `order.us.paid`: word 2 `eu` ≠ `us`"."""
    pattern_words, key_words = split_words(pattern), split_words(routing_key)
    failures: list[Failure] = []
    if _walk(pattern_words, key_words, 0, 0, failures, {}):
        return None
    # Report the failure that got furthest through the key: that is where a reader looks.
    _, msgid, args = max(failures, key=lambda failure: failure[0])
    return phrase(
        N_("`%(pattern)s` vs `%(key)s`: %(reason)s"),
        pattern=pattern,
        key=routing_key,
        reason=Phrase(msgid, args),
    )


def _walk(
    pattern: list[str],
    key: list[str],
    p: int,
    k: int,
    failures: list[Failure],
    seen: dict[tuple[int, int], bool],
) -> bool:
    if (p, k) in seen:
        return seen[(p, k)]
    if p == len(pattern):
        ok = k == len(key)
        if not ok:
            extra = N_("extra word %(position)s `%(word)s` after the pattern ends")
            failures.append((k, extra, {"position": k + 1, "word": key[k]}))
    elif pattern[p] == "#":
        ok = any(_walk(pattern, key, p + 1, j, failures, seen) for j in range(k, len(key) + 1))
    elif k == len(key):
        short = N_("the key has %(count)s words; the pattern needs more (`%(word)s`)")
        failures.append((k, short, {"count": len(key), "word": pattern[p]}))
        ok = False
    elif pattern[p] == "*" or pattern[p] == key[k]:
        ok = _walk(pattern, key, p + 1, k + 1, failures, seen)
    else:
        differs = N_("word %(position)s `%(expected)s` ≠ `%(actual)s`")
        failures.append((k, differs, {"position": k + 1, "expected": pattern[p], "actual": key[k]}))
        ok = False
    seen[(p, k)] = ok
    return ok
