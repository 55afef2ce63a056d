// simulations.js: the simulated producers and consumers a page shows (an exchange's producers,
// a queue's consumers), kept in step with the live frames, each with a Stop button.

import { api, paths } from "./api.js";
import { h, showError } from "./dom.js";
import { fmtNumber, fmtRate } from "./format.js";
import { t } from "./i18n.js";

const RUNNING = new Set(["starting", "running"]);

const STATES = {
  starting: () => t("starting"),
  running: () => t("running"),
  stopped: () => t("stopped"),
  finished: () => t("finished"),
  failed: () => t("failed"),
  crashed: () => t("crashed"),
};

// A simulation's counters, as "acked 3" (the server names them).
const COUNTERS = {
  received: (n) => t("received %(n)s", { n }),
  redelivered: (n) => t("redelivered %(n)s", { n }),
  acked: (n) => t("acked %(n)s", { n }),
  nacked: (n) => t("nacked %(n)s", { n }),
  rejected: (n) => t("rejected %(n)s", { n }),
  failed: (n) => t("failed %(n)s", { n }),
  crashes: (n) => t("crashes %(n)s", { n }),
  published: (n) => t("published %(n)s", { n }),
  routed: (n) => t("routed %(n)s", { n }),
  unroutable: (n) => t("unroutable %(n)s", { n }),
  refused: (n) => t("refused %(n)s", { n }),
};

// What a consumer does when processing fails (the queue page's "On failure" choices).
const ON_FAILURE = {
  "nack-requeue": () => t("nack + requeue"),
  "reject-dlx": () => t("reject, no requeue"),
  crash: () => t("crash"),
};

/** The simulations one page shows. `mine(sim)` picks the page's own; `resultBox` shows a failed
 * stop; `onStopped(sim)` and `onRender(shown)` are the page's. */
export function simulationList({ list, mine, resultBox, onStopped, onRender }) {
  let all = [];
  document.addEventListener("ql-language", () => render());
  const render = () => {
    const shown = all.filter(mine);
    list.replaceChildren(...shown.map((sim) => simulationItem(sim, stop)));
    onRender?.(shown);
  };
  async function stop(sim, button) {
    button.disabled = true;
    try {
      await api("DELETE", paths.simulation(sim.id));
      all = all.filter((other) => other.id !== sim.id);
      render();
      onStopped?.(sim);
    } catch (error) {
      button.disabled = false;
      showError(resultBox, error);
    }
  }
  return {
    /** A simulation this page just started (the next live frame will list it too). */
    add(sim) {
      if (sim?.id !== undefined && !all.some((other) => other.id === sim.id)) all.push(sim);
      render();
    },
    /** Every running simulation, as a snapshot or batch frame lists them. */
    set(simulations) {
      if (!Array.isArray(simulations)) return;
      all = simulations;
      render();
    },
    /** Draw again (after a language switch). */
    render,
  };
}

function consumerWhat(o) {
  const fails = o.failure_rate
    ? t("fails %(percent)s → %(then)s", {
        percent: `${Math.round(o.failure_rate * 100)}%`,
        then: ON_FAILURE[o.on_failure]?.() ?? o.on_failure,
      })
    : t("never fails");
  return [
    o.ack_mode === "auto" ? t("auto ack") : t("manual ack"),
    t("prefetch %(count)s", { count: o.prefetch || "∞" }),
    o.priority ? t("priority %(priority)s", { priority: o.priority }) : null,
    t("%(ms)s ms each", { ms: fmtNumber(o.processing_ms ?? 0) }),
    fails,
  ];
}

function producerWhat(o) {
  return [
    t("%(count)s messages at %(rate)s", { count: o.count ? fmtNumber(o.count) : "∞", rate: o.rate ? fmtRate(o.rate) : "?" }),
    t("key %(key)s", { key: o.routing_key === "" ? '""' : o.routing_key }),
  ];
}

/** One simulation as a list item: what it does, its counters, its state, and a Stop button. */
function simulationItem(sim, onStop) {
  const o = sim.options || {};
  const what = sim.kind === "consumer" ? consumerWhat(o) : producerWhat(o);
  const counters = Object.entries(sim.counters || {})
    .filter(([, n]) => n)
    .map(([k, n]) => (COUNTERS[k] ? COUNTERS[k](fmtNumber(n)) : `${k} ${fmtNumber(n)}`));
  const running = RUNNING.has(sim.state);
  const button = h("button", { type: "button", class: "small danger-ghost" }, running ? t("Stop") : t("Dismiss"));
  button.addEventListener("click", () => onStop(sim, button));
  return h(
    "li",
    { class: `sim sim-${sim.state}`, "data-simulation": String(sim.id) },
    h("span", { class: `badge sim-state state-${sim.state}` }, STATES[sim.state]?.() ?? sim.state),
    h("strong", {}, sim.name || t("simulation %(id)s", { id: sim.id })),
    h("span", {}, what.filter(Boolean).join(" · ")),
    counters.length ? h("span", { class: "muted sim-counters" }, counters.join(" · ")) : null,
    sim.error ? h("span", { class: "reason" }, sim.error) : null,
    button,
  );
}
