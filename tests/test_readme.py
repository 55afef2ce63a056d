"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_python_api_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(block for block in blocks if "from broker import Broker" in block)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)  # our own README, as a reader runs it
    assert capsys.readouterr().out.strip() == "b'Hello'"
    broker = namespace["broker"]
    try:
        queues = {q["name"]: q for q in broker.snapshot()["queues"]}
        assert queues["hello"]["counters"]["acked"] == 1
        assert queues["tasks"]["counters"]["published"] == 1
    finally:
        broker.close()
