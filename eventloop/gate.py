"""The step gate: run / pause / step / slow motion for the service loop.

Before each *user* callback runs, the service loop thread passes through the gate. When the
gate is closed (paused) the loop thread waits on a ``threading.Condition`` — only that thread:
the web app that pressed "pause" carries on, and so do other threads that schedule work with
``call_soon_threadsafe`` (their callbacks simply queue up). A step opens the gate for exactly
one callback. Internal callbacks (the lag heartbeat) do not pass through the gate, so they
never use up a student's step.

Time the loop thread spends held here (paused or slowed down) is recorded, so lag measurement
can leave out the delay the teaching controls add on purpose.
"""

from __future__ import annotations

import threading
import time
from collections import deque

RUNNING = "running"
PAUSED = "paused"
STOPPING = "stopping"

MAX_SLOW_MOTION = 5.0


class StepGate:
    """Thread-safe run/pause/step state, shared by the loop thread and its controllers."""

    def __init__(self, *, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self.mode = PAUSED if paused else RUNNING
        self.slow_motion = 0.0
        self._tokens = 0  # callbacks allowed through while paused
        self.steps_done = 0  # user callbacks finished (all modes)
        self.last_step_label: str | None = None
        self.waiting = False  # loop thread is held at the gate
        self.idle = False  # loop thread is blocked in select() with nothing ready
        self._watchers = 0  # threads waiting in wait_settled()
        self._held: deque[tuple[float, float]] = deque(maxlen=512)

    # -- controls, callable from any thread ---------------------------------------------------

    def run(self) -> None:
        """Open the gate: callbacks run freely again."""
        with self._cond:
            if self.mode != STOPPING:
                self.mode = RUNNING
                self._tokens = 0
            self._cond.notify_all()

    def pause(self) -> None:
        """Close the gate: the loop thread stops before its next user callback."""
        with self._cond:
            if self.mode != STOPPING:
                self.mode = PAUSED
                self._tokens = 0
            self._cond.notify_all()

    def grant_step(self) -> int:
        """Pause (if running) and let exactly one more user callback through.

        Returns the value ``steps_done`` will reach once that callback has finished.
        """
        with self._cond:
            if self.mode == RUNNING:
                self.mode = PAUSED
                self._tokens = 0
            if self.mode == PAUSED:
                self._tokens += 1
            self._cond.notify_all()
            return self.steps_done + self._tokens

    def withdraw_step(self) -> None:
        """Take back a step that found no callback in time, so it cannot fire later by surprise."""
        with self._cond:
            if self.mode == PAUSED and self._tokens > 0:
                self._tokens -= 1

    def set_slow_motion(self, seconds: float) -> None:
        """Wait ``seconds`` before every user callback (0 turns slow motion off)."""
        if not 0 <= seconds <= MAX_SLOW_MOTION:
            raise ValueError(
                f"slow motion must be between 0 and {MAX_SLOW_MOTION} seconds, got {seconds!r}"
            )
        with self._cond:
            self.slow_motion = float(seconds)
            self._cond.notify_all()

    def open_for_stop(self) -> None:
        """Open the gate for good, so the loop can run its shutdown even while paused."""
        with self._cond:
            self.mode = STOPPING
            self._cond.notify_all()

    def wait_settled(self, min_steps: int = 0, timeout: float = 2.0) -> bool:
        """Wait until ``steps_done >= min_steps`` and the loop thread is at rest.

        At rest means held at the gate, or idle in ``select()`` with no callback ready. Returns
        False on timeout (for example while a callback blocks the thread with ``time.sleep``).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            self._watchers += 1
            try:
                while not (
                    self.steps_done >= min_steps
                    and (self.waiting or self.idle or self.mode == STOPPING)
                ):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(min(remaining, 0.05))
                return True
            finally:
                self._watchers -= 1

    # -- used by the loop thread -------------------------------------------------------------

    def is_open(self) -> bool:
        """Fast check (no lock): running without slow motion."""
        return self.mode == RUNNING and not self.slow_motion

    def hold(self) -> None:
        """Block the loop thread while paused; consume one step token when stepping."""
        if self.mode == RUNNING:
            return
        with self._cond:
            if self.mode == PAUSED and self._tokens == 0:
                start = time.monotonic()
                self.waiting = True
                self._cond.notify_all()
                while self.mode == PAUSED and self._tokens == 0:
                    self._cond.wait()
                self.waiting = False
                self._held.append((start, time.monotonic()))
            if self.mode == PAUSED:
                self._tokens -= 1

    def slow_down(self) -> None:
        """Slow motion: wait before the callback runs (cut short by stop or by turning it off)."""
        seconds = self.slow_motion
        if not seconds or self.mode == STOPPING:
            return
        start = time.monotonic()
        with self._cond:
            self._cond.wait_for(
                lambda: self.mode == STOPPING or not self.slow_motion,
                timeout=seconds,
            )
        self._held.append((start, time.monotonic()))

    def step_finished(self, label: str | None) -> None:
        """Count a finished user callback and wake threads waiting for it."""
        self.last_step_label = label
        self.steps_done += 1
        self._notify_watchers()

    def set_idle(self, idle: bool) -> None:
        """Record whether the loop thread is about to sleep in ``select()`` with nothing ready."""
        self.idle = idle
        if idle:
            self._notify_watchers()

    def held_between(self, start: float, end: float) -> float:
        """Seconds the loop thread was held by the controls within ``[start, end]``."""
        total = 0.0
        for held_from, held_to in reversed(self._held):
            if held_to <= start:
                break
            total += max(0.0, min(end, held_to) - max(start, held_from))
        return total

    def _notify_watchers(self) -> None:
        # Flags are written before this check and read by watchers after they register, so a
        # watcher that registers after the check still sees the new state (no lost wake-up).
        if self._watchers:
            with self._cond:
                self._cond.notify_all()
