"""The concepts QueueLab teaches, from the article its classes read, in the article's order.

Each has a stable id (lessons and exercises name the concepts they cover by it), the English
term, the article's Chinese term, one sentence saying what it is, and the page where it can be
watched live. The English sentence is the message id; its Chinese is in the `glossary` catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.translatable import N_


@dataclass(frozen=True)
class Concept:
    id: str
    english: str
    chinese: str
    meaning: str  # one sentence, a message id for translation
    page: str  # the page that shows it live: an endpoint name


CONCEPTS: tuple[Concept, ...] = (
    Concept(
        "callback",
        "callback",
        "回调",
        N_("A function handed to someone else to run later, when something happens."),
        "loop.page",
    ),
    Concept(
        "event",
        "event",
        "事件",
        N_("Something that happened and that code can react to: a message came, a timer ran out."),
        "pages.events",
    ),
    Concept(
        "event-loop",
        "event loop",
        "事件循环",
        N_("One thread that waits for events and runs their callbacks, one at a time."),
        "loop.page",
    ),
    Concept(
        "timeout",
        "timeout",
        "超时",
        N_("A limit on how long to wait; when it passes, the waiting code gets an error instead."),
        "loop.page",
    ),
    Concept(
        "error-handling",
        "error handling",
        "错误处理",
        N_("What a program does when a callback fails: retry, reject, log, or pass the error on."),
        "loop.page",
    ),
    Concept(
        "producer",
        "producer",
        "生产者",
        N_("A program that publishes messages to an exchange."),
        "pages.overview",
    ),
    Concept(
        "consumer",
        "consumer",
        "消费者",
        N_("A program that receives messages from a queue and acknowledges them."),
        "pages.overview",
    ),
    Concept(
        "message",
        "message",
        "消息",
        N_("A body of bytes with properties and a routing key, sent from a producer to consumers."),
        "pages.events",
    ),
    Concept(
        "queue",
        "queue",
        "队列",
        N_("A buffer that holds messages in order until a consumer takes them."),
        "pages.queues",
    ),
    Concept(
        "exchange",
        "exchange",
        "交换机",
        N_("Where producers publish; it routes each message to queues by its bindings."),
        "pages.exchanges",
    ),
    Concept(
        "message-loss",
        "message loss",
        "消息丢失",
        N_("A message that never reaches a consumer: unroutable, dropped, expired or lost."),
        "pages.events",
    ),
    Concept(
        "message-delay",
        "message delay",
        "消息延迟",
        N_("The time between publishing a message and a consumer handling it."),
        "pages.overview",
    ),
    Concept(
        "queue-length",
        "queue length",
        "队列长度",
        N_("How many messages wait in a queue; it grows when consumers fall behind."),
        "pages.queues",
    ),
    Concept(
        "ordering",
        "ordering",
        "消息顺序",
        N_("The order consumers see messages in; requeues and several consumers can change it."),
        "pages.queues",
    ),
    Concept(
        "persistence",
        "persistence",
        "持久化",
        N_(
            "Keeping durable queues and persistent messages on disk so that they survive a restart."
        ),
        "pages.queues",
    ),
    Concept(
        "reliable-delivery",
        "reliable delivery",
        "可靠传递",
        N_("Publisher confirms and consumer acks together, so that no message is lost unnoticed."),
        "pages.connections",
    ),
    Concept(
        "blocked-loop",
        "blocked event loop",
        "事件循环阻塞",
        N_("A callback that runs too long, so that every other callback and timer has to wait."),
        "loop.page",
    ),
    Concept(
        "callback-delay",
        "callback delay",
        "回调延迟",
        N_("How late a callback runs after it was due, because others ran before it."),
        "loop.page",
    ),
    Concept(
        "tampering",
        "tampering",
        "消息篡改",
        N_("A message changed on its way by someone who should not; permissions stop it."),
        "pages.events",
    ),
    Concept(
        "queue-leakage",
        "queue leakage",
        "队列泄漏",
        N_("Queues that nobody consumes or deletes any more, piling up messages and memory."),
        "pages.queues",
    ),
    Concept(
        "callback-injection",
        "callback injection",
        "回调注入",
        N_("Running callbacks an attacker chose, e.g. by trusting names that come in messages."),
        "loop.page",
    ),
    Concept(
        "event-loop-leakage",
        "event-loop leakage",
        "事件循环泄漏",
        N_("Tasks, timers or callbacks left behind on a loop that keep running or hold memory."),
        "loop.page",
    ),
    Concept(
        "load-balancing",
        "load balancing",
        "负载均衡",
        N_("Several consumers on one queue sharing its messages, with prefetch keeping it fair."),
        "pages.overview",
    ),
    Concept(
        "fault-tolerance",
        "fault tolerance",
        "容错",
        N_(
            "Going on when a part fails: requeued messages, dead-lettering, a consumer taking over."
        ),
        "pages.overview",
    ),
    Concept(
        "data-consistency",
        "data consistency",
        "数据一致性",
        N_(
            "Every consumer and store agreeing on what happened, even after duplicates and retries."
        ),
        "pages.events",
    ),
)

BY_ID = {concept.id: concept for concept in CONCEPTS}
