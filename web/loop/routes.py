"""The event-loop page, its JSON API and its socket (listed in web/loop/__init__.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext
from flask_sock import Sock

from broker.translatable import N_, Phrase, message_of, phrase
from eventloop import ServiceLoop
from eventloop.demos import Demo, DemoParamError, all_demos
from eventloop.gate import MAX_SLOW_MOTION
from web.live.hub import Hub, serve_socket
from web.loop.feed import KEY
from web.loop.keeper import ACTIONS, LoopKeeper, demo_list
from web.loop.words import say
from web.toolkit import (
    ALL_METHODS,
    ApiError,
    bad_request,
    json_endpoint,
    json_response,
    read_json_body,
)

KEEPER = "queuelab.loop"  # app.extensions: the LoopKeeper
HUB = "queuelab.loop.live"  # app.extensions: the page's live hub

loop_pages = Blueprint("loop", __name__)
sock = Sock()


def _keeper() -> LoopKeeper:
    return current_app.extensions[KEEPER]


@loop_pages.get("/loop")
def page() -> str | Response:
    """The event-loop page (the live state comes over /ws/loop)."""
    keeper = _keeper()
    try:
        keeper.loop()
    except ApiError as error:
        return error.response()
    demos = [demo.as_dict() for demo in all_demos().values()]
    return render_template("loop.html", demos=demos, queue=keeper.context.queue)


@sock.route("/ws/loop", bp=loop_pages)
def loop_socket(ws: Any) -> None:
    """A snapshot, then batches, until the page goes or the socket must close."""
    hub: Hub = current_app.extensions[HUB]
    serve_socket(hub, ws, KEY)


@loop_pages.route("/api/loop", methods=ALL_METHODS)
@json_endpoint("GET")
def loop_state() -> Response:
    return json_response(_keeper().api_state())


@loop_pages.route("/api/loop/demos", methods=ALL_METHODS)
@json_endpoint("GET")
def demos() -> Response:
    return json_response(demo_list(_keeper().runs()))


def _demo(name: str) -> Demo:
    demo = all_demos().get(name)
    if demo is None:
        names = ", ".join(all_demos())
        raise ApiError(
            404,
            "not_found",
            gettext("no demo named '%(demo)s'", demo=name[:100]),
            gettext("the demos are: %(names)s", names=names),
        )
    return demo


@loop_pages.route("/api/loop/demos/<name>", methods=ALL_METHODS)
@json_endpoint("GET", "POST", "DELETE")
def demo_item(name: str) -> Response:
    demo = _demo(name)
    keeper = _keeper()
    if request.method in ("GET", "HEAD"):
        run = keeper.run_of(name)
        return json_response({**demo.as_dict(), "run": run.status() if run else None})
    if request.method == "DELETE":
        run = keeper.stop_demo(name)
        return json_response({"cancelling": name, "run": run.status(), **_paused_hint(keeper)}, 202)
    run = keeper.start_demo(demo, _demo_params(demo))
    body = {"started": name, "task": name, "run": run.status(), **_paused_hint(keeper)}
    return json_response(body, 202)


def _demo_params(demo: Demo) -> dict[str, Any]:
    """The parameters a POST asks the demo to run with, checked against the demo's own."""
    body = read_json_body(optional=True)
    unknown = sorted(set(body) - {"params"})
    if unknown:
        raise bad_request(
            gettext("unknown field '%(field)s'", field=unknown[0][:100]),
            gettext('the body may hold only "params"'),
        )
    params = body.get("params", {})
    takes = ", ".join(f"{key}={value}" for key, value in demo.params.items())
    takes_text = gettext("this demo takes: %(params)s", params=takes or gettext("no parameters"))
    if not isinstance(params, dict):
        raise bad_request(gettext('"params" must be an object'), takes_text)
    try:
        return demo.check_params(params)
    except DemoParamError as error:
        raise bad_request(say(error.args[0]), takes_text) from None


def _paused_hint(keeper: LoopKeeper) -> dict[str, Any]:
    svc, _ = keeper.loop()
    if svc.loop.gate.mode == "paused":
        return _said("hint", phrase(N_("the loop is paused: press Step (or Run) to let it happen")))
    return {}


def _said(field: str, text: Phrase) -> dict[str, Any]:
    """An answer's text in the request's language, and its message for the page
    (`<field>_i18n`), which says it again after a switch of language in place."""
    return {field: say(text), f"{field}_i18n": message_of(text)}


@loop_pages.route("/api/loop/control", methods=ALL_METHODS)
@json_endpoint("POST")
def control() -> Response:
    body = read_json_body()
    action = body.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise bad_request(
            gettext("unknown action %(action)s", action=repr(action)[:130])
            if action is not None
            else gettext('missing "action"'),
            gettext("use one of: %(actions)s", actions=", ".join(ACTIONS)),
        )
    keeper = _keeper()
    svc, _ = keeper.loop()
    out: dict[str, Any] = {"action": action}
    if action == "run":
        svc.run()
    elif action == "pause":
        svc.pause()
    elif action == "slow":
        svc.set_slow_motion(_slow_motion(body.get("seconds")))
    elif action == "reset":
        out["generation"] = keeper.reset()
        svc, _ = keeper.loop()
    else:
        out.update(_step(svc, keeper.settings["LOOP_STEP_WAIT"]))
    out["control"] = keeper.live_state(svc)["gate"]
    return json_response(out)


def _slow_motion(seconds: Any) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise bad_request(
            gettext('"slow" needs "seconds": a number'),
            gettext("from 0 to %(max)s", max=f"{MAX_SLOW_MOTION:g}"),
        )
    if not 0 <= seconds <= MAX_SLOW_MOTION:
        raise bad_request(
            gettext(
                "slow motion must be from 0 to %(max)s seconds, not %(seconds)s",
                max=f"{MAX_SLOW_MOTION:g}",
                seconds=seconds,
            ),
            gettext("0 turns slow motion off"),
        )
    return float(seconds)


def _step(svc: ServiceLoop, wait: float) -> dict[str, Any]:
    """One callback. Answers at once when there is nothing to run; otherwise waits (up to
    `wait`, or until the next timer is due) for the callback to finish."""
    snapshot = svc.snapshot(max_entries=1)
    if not snapshot["ready_total"] and snapshot["current"] is None:
        if not snapshot["timers_total"]:
            svc.pause()
            nothing = N_(
                "nothing to run: the ready queue is empty and no timer is set "
                "(start a demo, then step)"
            )
            return {"ran": None, **_said("message", phrase(nothing))}
        due = max(0.0, snapshot["timers"][0]["due_in"])
        wait = min(wait + due, max(wait, due + 0.5))
    label = svc.step(timeout=wait)
    if label is None:
        late = N_(
            "no callback finished within %(seconds)s s: a callback may be blocking "
            "the loop, or the next timer is not due yet"
        )
        return {"ran": None, **_said("message", phrase(late, seconds=f"{wait:.1f}"))}
    return {"ran": label, **_said("message", phrase(N_("ran: %(label)s"), label=label))}
