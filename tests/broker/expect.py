"""Expecting RabbitMQ's exact reply code and text."""

from __future__ import annotations

import pytest

from broker import AMQPError


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
