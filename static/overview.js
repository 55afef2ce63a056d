// overview.js: the overview page: the live topology diagram, its message animation, totals and
// a rate chart. The page's state is overview/model.js (a Topology built from the live frames);
// overview/layout.js places it, overview/draw.js draws it, overview/animation.js moves the
// messages over it and overview/unroutable.js says why a message went nowhere.

import { LineChart } from "./lib/chart.js";
import { fmtNumber, fmtRate } from "./lib/format.js";
import { t } from "./lib/i18n.js";
import { connectLive } from "./lib/live.js";
import "./lib/projector.js";
import "./lib/title.js";
import { Animator } from "./overview/animation.js";
import { Diagram, drawLegend } from "./overview/draw.js";
import { layout } from "./overview/layout.js";
import { RateMeter, Topology } from "./overview/model.js";
import { UnroutableNotes } from "./overview/unroutable.js";

const VHOST = document.body.dataset.vhost || "/";
const showSystem = document.getElementById("show-system");
const animateBox = document.getElementById("animate");

const SERIES = [
  { key: "published", label: () => t("published") },
  { key: "delivered", label: () => t("delivered") },
  { key: "acked", label: () => t("acked") },
  { key: "unroutable", label: () => t("unroutable") },
];

const model = new Topology();
const diagram = new Diagram(document.getElementById("diagram"), document.getElementById("diagram-empty"), VHOST);
const unroutable = new UnroutableNotes(diagram, {
  list: document.getElementById("unroutable-list"),
  none: document.getElementById("unroutable-none"),
  vhost: VHOST,
});
const animator = new Animator(diagram, {
  enabled: () => animateBox.checked,
  samplingNote: document.getElementById("sampling"),
  onUnroutable: (e) => unroutable.showOnDiagram(e),
});
const chart = new LineChart(document.getElementById("rates"), SERIES, { perSecond: true });
const rates = new RateMeter(SERIES.map(({ key }) => key));

let drawPending = false;

function draw() {
  drawPending = false;
  diagram.draw(model, layout(model, { showSystem: showSystem.checked }));
}

/** Draw again on the next frame (several changes in one frame draw once). */
function structureChanged() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    if (drawPending) draw();
  });
}

function showTotals() {
  for (const { key } of SERIES) {
    const el = document.querySelector(`[data-total="${key}"]`);
    if (el) el.textContent = fmtNumber(model.totals[key] ?? 0);
  }
}

let lastRates = null;

function showRates() {
  for (const { key } of SERIES) {
    const el = document.querySelector(`[data-rate="${key}"]`);
    if (el) el.textContent = fmtRate(lastRates?.[key] ?? 0);
  }
}

function sampleRates() {
  const sample = rates.sample(model.totals);
  if (!sample) return;
  lastRates = sample;
  showRates();
  chart.push(sample);
}

function onSnapshot(frame) {
  model.load(frame);
  showTotals();
  draw(); // now, not on the next frame: a background tab may not get frames for a while
  unroutable.reset();
  for (const e of (frame.events || []).filter((event) => event.type === "unroutable").slice(-6)) unroutable.add(e);
}

function onBatch(frame) {
  animator.serverSampled = frame.sampled || 0;
  const events = frame.events || [];
  for (const e of events) {
    animator.remember(e);
    if (e.type === "unroutable") unroutable.add(e);
  }
  const structural = model.applyBatch(frame);
  if (frame.totals) showTotals();
  // Draw first, then animate on the new picture.
  if (structural) draw();
  else diagram.updateNumbers(model);
  for (const e of events) animator.animate(e);
}

showSystem.addEventListener("change", structureChanged);
animateBox.addEventListener("change", () => {
  if (!animateBox.checked) animator.clear();
});
setInterval(() => {
  sampleRates();
  animator.tick();
}, 1000);

// A language switch: everything this page wrote, said again (the chart redraws itself).
document.addEventListener("ql-language", () => {
  drawLegend(document.getElementById("legend"));
  showTotals();
  showRates();
  draw();
  unroutable.redraw();
  animator.showSampling();
});

drawLegend(document.getElementById("legend"));
connectLive({ onSnapshot, onBatch });
