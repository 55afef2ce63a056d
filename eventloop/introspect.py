"""Reading a task from the outside with public attributes only.

A suspended coroutine keeps its frame (``cr_frame``) and the object it is awaiting
(``cr_await``); following ``cr_await`` from the task's coroutine down to the innermost
awaitable gives the chain "my code → asyncio.sleep() → a Future". The innermost object is
usually a Future's iterator, which keeps its Future alive: ``gc.get_referents`` names it.

Nothing here calls ``Task.exception()`` or ``Task.result()`` on a failed task: that would mark
its exception as retrieved and hide the "Task exception was never retrieved" lesson.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import io
import linecache
import os
from typing import Any

from broker import Delivery

ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep
_CWD = os.getcwd() + os.sep


def callable_name(callback: Any) -> str:
    """A short human name for a callback: ``Future.set_result``, ``partial(handler)``, …"""
    if isinstance(callback, functools.partial):
        return f"partial({callable_name(callback.func)})"
    name = getattr(callback, "__qualname__", None) or getattr(callback, "__name__", None)
    return name if isinstance(name, str) else type(callback).__name__


def is_task(obj: object) -> bool:
    """True for asyncio tasks (the C and the pure-Python implementation)."""
    return isinstance(obj, asyncio.Task) or (asyncio.isfuture(obj) and hasattr(obj, "get_coro"))


def short_path(filename: str) -> str:
    """``asyncio/tasks.py`` for the standard library, a relative path for project files."""
    if filename.startswith(ASYNCIO_DIR):
        return "asyncio/" + filename[len(ASYNCIO_DIR) :]
    if filename.startswith(_CWD):
        return filename[len(_CWD) :]
    return filename


def frame_info(frame: Any) -> dict[str, Any]:
    """Where a frame stands: function, file, line number and the source line itself."""
    code = frame.f_code
    lineno = frame.f_lineno or code.co_firstlineno
    text = linecache.getline(code.co_filename, lineno).strip()
    if text.startswith("@"):  # a decorated coroutine not started yet: point at its `def`
        for ahead in range(lineno + 1, lineno + 50):
            line = linecache.getline(code.co_filename, ahead).strip()
            if line.startswith(("def ", "async def ")):
                lineno, text = ahead, line
                break
            if not line and not linecache.getline(code.co_filename, ahead):
                break  # end of file
    return {
        "function": getattr(code, "co_qualname", code.co_name),
        "file": short_path(code.co_filename),
        "line": lineno,
        "code": text,
        "asyncio": code.co_filename.startswith(ASYNCIO_DIR),
    }


def await_chain(coro: Any, limit: int = 30) -> tuple[list[dict[str, Any]], Any]:
    """Follow ``cr_await`` / ``gi_yieldfrom`` from a coroutine to what it is waiting for.

    Returns the frames, outermost first, and the innermost awaited object that is not a
    coroutine (normally a Future, or ``None`` when the coroutine yielded bare to the loop).
    """
    frames: list[dict[str, Any]] = []
    obj = coro
    for _ in range(limit):
        if obj is None:
            return frames, None
        if asyncio.isfuture(obj):
            return frames, obj
        frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None)
        if frame is None and not hasattr(obj, "cr_await") and not hasattr(obj, "gi_yieldfrom"):
            # A Future's iterator (what ``await future`` suspends on): find its Future.
            return frames, next((r for r in gc.get_referents(obj) if asyncio.isfuture(r)), obj)
        if frame is not None:
            frames.append(frame_info(frame))
        obj = obj.cr_await if hasattr(obj, "cr_await") else getattr(obj, "gi_yieldfrom", None)
    return frames, obj


def user_frame(frames: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The innermost frame outside asyncio itself: the line a student wrote."""
    for info in reversed(frames):
        if not info["asyncio"]:
            return info
    return frames[-1] if frames else None


def coroutine_started(coro: Any) -> bool:
    """False while a coroutine has not run its first line yet."""
    if inspect.iscoroutine(coro):
        return inspect.getcoroutinestate(coro) != inspect.CORO_CREATED
    if inspect.isgenerator(coro):
        return inspect.getgeneratorstate(coro) != inspect.GEN_CREATED
    return True


def failure_text(task: asyncio.Task[Any]) -> str | None:
    """For a finished task: its traceback text if it failed, else ``None``.

    Uses the public ``Task.get_stack()`` / ``Task.print_stack()``, which do not mark the
    exception as retrieved (``Task.exception()`` would).
    """
    if not task.done() or task.cancelled() or not task.get_stack():
        return None
    buffer = io.StringIO()
    task.print_stack(file=buffer)
    return buffer.getvalue()


def delivered_message_id(args: tuple[Any, ...]) -> int | None:
    """The broker's message id when a callback carries a delivery (``put_nowait(delivery)``), so
    the page can say "call_soon_threadsafe …: Queue.put_nowait(message #7)"."""
    for arg in args:
        if isinstance(arg, Delivery):
            return arg.message.id
    return None


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr`` cut to ``limit`` characters, for results shown on the page."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
