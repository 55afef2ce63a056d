// api.js: the JSON management API: its URLs, the pages' URLs, and one call that turns the
// API's errors ({error, reason, hint}) into an ApiError the page shows, never swallows.
// URLs are built with encodeURIComponent; vhost "/" is %2F and the default exchange amq.default.
// The server's reason texts stay as RabbitMQ says them; its hints come in the page's language.

import { t } from "./i18n.js";

const enc = encodeURIComponent;
export const exchangeSlug = (name) => (name === "" ? "amq.default" : name);
export const exchangeLabel = (name) => (name === "" ? t("(AMQP default)") : name);

export const paths = {
  exchanges: (vhost) => `/api/exchanges/${enc(vhost)}`,
  exchange: (vhost, name) => `/api/exchanges/${enc(vhost)}/${enc(exchangeSlug(name))}`,
  publish: (vhost, name) => `/api/exchanges/${enc(vhost)}/${enc(exchangeSlug(name))}/publish`,
  queue: (vhost, name) => `/api/queues/${enc(vhost)}/${enc(name)}`,
  contents: (vhost, name) => `/api/queues/${enc(vhost)}/${enc(name)}/contents`,
  get: (vhost, name) => `/api/queues/${enc(vhost)}/${enc(name)}/get`,
  bind: (vhost, source, kind, destination) =>
    `/api/bindings/${enc(vhost)}/e/${enc(source)}/${kind === "exchange" ? "e" : "q"}/${enc(destination)}`,
  unbind: (vhost, source, kind, destination, props) =>
    `${paths.bind(vhost, source, kind, destination)}/${enc(props || "~")}`,
  history: (id) => `/api/messages/${enc(id)}/history`,
  simulations: () => "/api/simulations",
  simulation: (id) => `/api/simulations/${enc(id)}`,
};

export const pages = {
  queue: (vhost, name) => `/queues/${enc(vhost)}/${enc(name)}`,
  exchange: (vhost, name) => `/exchanges/${enc(vhost)}/${enc(exchangeSlug(name))}`,
};

/** An error to show as a lesson. The page's own errors pass `words`, a function that says
 * {reason, hint} in the current language (shown again after a language switch). */
export class ApiError extends Error {
  constructor({ status = 0, error = "", reason = "", hint = "", words = null }) {
    const said = words ? words() : {};
    const text = said.reason || reason || error || `HTTP ${status}`;
    super(text);
    this.status = status;
    this.error = error;
    this.reason = text;
    this.hint = said.hint ?? hint;
    this.words = words;
  }
}

/** Call the management API; resolves to the parsed JSON (or null), rejects with ApiError. */
export async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError({
      words: () => ({
        reason: t("Could not reach QueueLab"),
        hint: t("Is the server still running? The page reconnects by itself when it is back."),
      }),
    });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (data && typeof data === "object" && !Array.isArray(data)) {
      throw new ApiError({ status: response.status, ...data });
    }
    const reason = `HTTP ${response.status} ${response.statusText}`.trim();
    throw new ApiError({
      status: response.status,
      words: () => ({ reason, hint: t("The API did not understand %(request)s.", { request: `${method} ${path}` }) }),
    });
  }
  return data;
}
