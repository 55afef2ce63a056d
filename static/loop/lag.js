// lag.js: the loop-lag chart: how late timers fired over the last 30 seconds, the spike a
// blocking call makes, and the lag a callback is building up while it still runs.

import { niceCeiling } from "../lib/chart.js";
import { clear, s } from "../lib/dom.js";
import { fmtSeconds } from "../lib/format.js";
import { t } from "../lib/i18n.js";
import { BLOCKING } from "./draw.js";
import { LAG_WINDOW } from "./model.js";

const CHART = { w: 600, h: 180, right: 14, top: 18, bottom: 22 };
const $ = (id) => document.getElementById(id);

/** The figures above the chart: the latest lag and the window's maximum. */
function showFigures(latest, max, counted) {
  const nowText = $("lag-now");
  nowText.textContent = latest ? fmtSeconds(latest.lag) : "–";
  nowText.dataset.seconds = String(latest ? latest.lag : 0);
  const maxText = $("lag-max");
  maxText.textContent = counted ? fmtSeconds(max.lag) : "–";
  maxText.dataset.seconds = String(max.lag);
  maxText.classList.toggle("spike", max.lag >= BLOCKING);
  $("lag-window").textContent = t("(last %(seconds)s s)", { seconds: LAG_WINDOW });
}

/** A lag sample's source: "heartbeat", or "timer #9" (said in the page's language). */
function sourceText(source) {
  const timer = /^timer #(\d+)$/.exec(source || "");
  return timer ? t("timer #%(id)s", { id: timer[1] }) : source;
}

function grid(scale) {
  const { left, x1, x2, y, topMs } = scale;
  const g = s("g", { class: "chart-grid" });
  for (const fraction of [0, 0.5, 1]) {
    const ms = topMs * fraction;
    g.append(
      s("line", { x1, x2, y1: y(ms / 1000), y2: y(ms / 1000) }),
      s("text", { x: left - 6, y: y(ms / 1000) + 4, "text-anchor": "end" }, ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`),
    );
  }
  g.append(
    s("text", { x: left, y: CHART.h - 5 }, `−${LAG_WINDOW} s`),
    s("text", { x: x2, y: CHART.h - 5, "text-anchor": "end" }, t("now")),
  );
  const parts = [g];
  if (topMs > 100) {
    parts.push(
      s("line", { class: "lag-threshold", x1, x2, y1: y(0.1), y2: y(0.1) }),
      s("text", { class: "lag-threshold-label", x: left + 4, y: y(0.1) - 4 }, t("100 ms: people notice")),
    );
  }
  return parts;
}

function sampleMarks(samples, { x, y }) {
  const parts = [];
  if (samples.length > 1) {
    const points = samples.map((sample) => `${x(sample.t).toFixed(1)},${y(sample.lag).toFixed(1)}`).join(" ");
    parts.push(s("polyline", { class: "line lag-line", points }));
  }
  for (const sample of samples) {
    if (sample.source !== "heartbeat" && sample.lag >= 0.01) {
      const title = t("%(source)s: %(time)s late", { source: sourceText(sample.source), time: fmtSeconds(sample.lag) });
      parts.push(s("circle", { class: "lag-timer", cx: x(sample.t), cy: y(sample.lag), r: 3 }, s("title", {}, title)));
    }
  }
  return parts;
}

function spikeMarks(max, blocked, now, { x, y, left, plotW }) {
  const parts = [];
  if (blocked >= BLOCKING) {
    parts.push(
      s("line", { class: "lag-building", x1: x(now - blocked), y1: y(0), x2: x(now), y2: y(blocked) }),
      s("text", { class: "lag-spike-label", x: x(now) - 6, y: Math.max(CHART.top + 10, y(blocked) + 14), "text-anchor": "end" }, t("blocked: %(time)s…", { time: fmtSeconds(blocked) })),
    );
  }
  if (max.lag >= BLOCKING) {
    const px = x(max.t);
    const right = px > left + plotW / 2;
    parts.push(
      s("circle", { class: "lag-spike", cx: px, cy: y(max.lag), r: 5 }),
      s(
        "text",
        {
          class: "lag-spike-label",
          id: "lag-spike-label",
          x: right ? px - 9 : px + 9,
          y: Math.max(CHART.top + 10, y(max.lag) + 4),
          "text-anchor": right ? "end" : "start",
        },
        t("%(time)s late", { time: fmtSeconds(max.lag) }),
      ),
    );
  }
  return parts;
}

export function renderLag(model) {
  const svg = clear($("lag-chart"));
  svg.setAttribute("viewBox", `0 0 ${CHART.w} ${CHART.h}`);
  const now = model.loopNow();
  const from = now - LAG_WINDOW;
  const samples = model.lag.filter((sample) => sample.t >= from);
  const max = samples.reduce((best, sample) => (sample.lag > best.lag ? sample : best), { lag: 0, t: now });
  showFigures(model.lag[model.lag.length - 1], max, samples.length);

  // The shared stylesheet enlarges chart text for projectors: room for the axis labels.
  const left = document.documentElement.dataset.projector === "on" ? 80 : 52;
  const plotW = CHART.w - left - CHART.right;
  const plotH = CHART.h - CHART.top - CHART.bottom;
  // A callback blocking the loop right now: no timer can fire, so no sample comes until it
  // returns. The chart draws the lag it is building up, live.
  const blocked = model.current ? model.runningFor() : 0;
  const topMs = niceCeiling(Math.max(20, Math.max(max.lag, blocked) * 1000 * 1.1));
  const scale = {
    left,
    plotW,
    topMs,
    x1: left,
    x2: CHART.w - CHART.right,
    x: (t) => left + ((t - from) / LAG_WINDOW) * plotW,
    y: (seconds) => CHART.top + plotH - Math.min(1, (seconds * 1000) / topMs) * plotH,
  };
  svg.append(...grid(scale), ...sampleMarks(samples, scale), ...spikeMarks(max, blocked, now, scale));
}
