"""Work queues (pika): two workers share tasks fairly with manual acks and prefetch=1.

A durable queue "task_queue"; the producer sends persistent tasks whose dots say how long they
take; each worker holds one unacked task at a time, so the quick one takes more of them.
"""

import os
import threading
import time

import pika

URL = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost/")
TASKS = ["first.", "second..", "third.", "fourth....", "fifth.", "sixth.."]


def worker(name: str, done: list[str], lock: threading.Lock) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    channel.queue_declare("task_queue", durable=True)
    channel.basic_qos(prefetch_count=1)  # fair dispatch: one task at a time per worker

    def on_task(ch, method, properties, body) -> None:
        task = body.decode()
        time.sleep(task.count(".") * 0.05)
        with lock:
            done.append(task)
            print(f" [{name}] done {task!r} (delivery tag {method.delivery_tag})")
        ch.basic_ack(method.delivery_tag)
        with lock:
            finished = len(done) >= len(TASKS)
        if finished:
            ch.stop_consuming()

    channel.basic_consume("task_queue", on_task)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.1)
        with lock:
            if len(done) >= len(TASKS):
                break
    connection.close()


def main() -> None:
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    channel = connection.channel()
    channel.queue_declare("task_queue", durable=True)
    channel.queue_purge("task_queue")
    done: list[str] = []
    lock = threading.Lock()
    workers = [threading.Thread(target=worker, args=(n, done, lock)) for n in ("w1", "w2")]
    for thread in workers:
        thread.start()
    for task in TASKS:
        channel.basic_publish(
            "", "task_queue", task.encode(), pika.BasicProperties(delivery_mode=2)
        )
        print(f" [x] Sent {task!r}")
    for thread in workers:
        thread.join()
    connection.close()
    print(f" [.] {len(done)} of {len(TASKS)} tasks done")


if __name__ == "__main__":
    main()
