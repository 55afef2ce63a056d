// live.js: the page's one websocket to /ws/live.
//
// The first frame is a snapshot of the vhost (exchanges, queues, bindings, consumers …, recent
// events, running simulations); then ~20 batches a second of new events plus queue depths and
// totals. When the socket closes the page reconnects with backoff and redraws from the fresh
// snapshot. The server may send a fresh snapshot at any time (after it had to drop events for
// us); the page then redraws from it, exactly as after a reconnect.
//
// <body data-live> is "connecting", "open" (snapshot received and drawn) or "closed"; tests wait
// for body[data-live="open"] before they act. The header's status says it in the page's
// language, and again after a language switch.

import { t } from "./i18n.js";

const MAX_BACKOFF_MS = 10_000;

// Options: onSnapshot(frame) and onBatch(frame) draw; `path` picks another live socket (the
// event-loop page uses /ws/loop) and `openText` its status label (a function that says it in
// the current language, or a string); onError(reason) hears the server refuse; onState(state)
// hears every change of <body data-live>.
export function connectLive({
  onSnapshot,
  onBatch,
  onError,
  onState,
  vhost = document.body.dataset.vhost || "/",
  path = `/ws/live?vhost=${encodeURIComponent(vhost)}`,
  openText = () => t("live"),
}) {
  const status = document.getElementById("live-status");
  let socket = null;
  let attempt = 0;
  let retryTimer = null;
  let countdownTimer = null;
  let stopped = false;
  let said = () => ""; // what the status says now, in the current language

  function setState(state, text) {
    document.body.dataset.live = state;
    onState?.(state);
    said = text;
    if (status) {
      status.textContent = text();
      status.dataset.state = state;
    }
  }
  document.addEventListener("ql-language", () => {
    if (status) status.textContent = said();
  });

  function open() {
    clearTimeout(retryTimer);
    clearInterval(countdownTimer);
    setState("connecting", () => (attempt ? t("reconnecting…") : t("connecting…")));
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}${path}`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      scheduleRetry();
      return;
    }
    socket = ws;
    let ready = false;
    let problem = null;
    ws.addEventListener("message", (message) => {
      if (ws !== socket) return;
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.type === "snapshot") {
        ready = true;
        attempt = 0;
        onSnapshot?.(frame);
        setState("open", typeof openText === "function" ? openText : () => openText);
      } else if (frame.type === "batch" && ready) {
        onBatch?.(frame);
      } else if (frame.type === "error") {
        problem = frame.reason || frame.error || t("the server refused the live connection");
        onError?.(problem);
      }
    });
    ws.addEventListener("close", (event) => {
      if (ws !== socket || stopped) return;
      socket = null;
      scheduleRetry(problem || (event.code === 1001 ? t("the server stopped") : null));
    });
    ws.addEventListener("error", () => {
      // A close event follows; nothing to add here (the browser already logs the failure).
    });
  }

  function scheduleRetry(why = null) {
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    attempt += 1;
    const due = Date.now() + delay;
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      setState("closed", () =>
        why ? t("%(why)s; retrying in %(seconds)s s", { why, seconds }) : t("offline: retrying in %(seconds)s s", { seconds }),
      );
    };
    tick();
    countdownTimer = setInterval(tick, 500);
    retryTimer = setTimeout(open, delay);
  }

  window.addEventListener("pagehide", () => {
    stopped = true;
    socket?.close();
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      stopped = false;
      open();
    }
  });

  open();
}
