// simulations.js: the simulated producers and consumers a page shows (an exchange's producers,
// a queue's consumers), kept in step with the live frames, each with a Stop button.

import { api, paths } from "./api.js";
import { h, showError } from "./dom.js";
import { fmtNumber } from "./format.js";

const RUNNING = new Set(["starting", "running"]);

/** The simulations one page shows. `mine(sim)` picks the page's own; `resultBox` shows a failed
 * stop; `onStopped(sim)` and `onRender(shown)` are the page's. */
export function simulationList({ list, mine, resultBox, onStopped, onRender }) {
  let all = [];
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
  };
}

/** One simulation as a list item: what it does, its counters, its state, and a Stop button. */
function simulationItem(sim, onStop) {
  const o = sim.options || {};
  const what =
    sim.kind === "consumer"
      ? [
          o.ack_mode === "auto" ? "auto ack" : "manual ack",
          `prefetch ${o.prefetch || "∞"}`,
          o.priority ? `priority ${o.priority}` : null,
          `${o.processing_ms ?? 0} ms each`,
          o.failure_rate ? `fails ${Math.round(o.failure_rate * 100)}% → ${o.on_failure}` : "never fails",
        ]
      : [`${o.count ?? "∞"} messages at ${o.rate ?? "?"}/s`, `key ${o.routing_key === "" ? '""' : o.routing_key}`];
  const counters = Object.entries(sim.counters || {})
    .filter(([, n]) => n)
    .map(([k, n]) => `${k} ${fmtNumber(n)}`);
  const running = RUNNING.has(sim.state);
  const button = h("button", { type: "button", class: "small danger-ghost" }, running ? "Stop" : "Dismiss");
  button.addEventListener("click", () => onStop(sim, button));
  return h(
    "li",
    { class: `sim sim-${sim.state}`, "data-simulation": String(sim.id) },
    h("span", { class: `badge sim-state state-${sim.state}` }, sim.state),
    h("strong", {}, sim.name || `simulation ${sim.id}`),
    h("span", {}, what.filter(Boolean).join(" · ")),
    counters.length ? h("span", { class: "muted sim-counters" }, counters.join(" · ")) : null,
    sim.error ? h("span", { class: "reason" }, sim.error) : null,
    button,
  );
}
