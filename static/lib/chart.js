// chart.js: a small SVG line / stacked-area chart over a sliding window (one sample a second).
// Used for the overview's message rates and a queue's depth. Plain SVG, no library. The chart
// is drawn at the size it is shown (it redraws when resized), so its text is real-size text.

import { clear, s } from "./dom.js";
import { displayWidth, fmtNumber } from "./format.js";
import { t } from "./i18n.js";

const M = { left: 44, right: 12, bottom: 20 };

/** The round number (1, 2, 2.5 or 5 times a power of ten) at or above `value`: a chart's top. */
export function niceCeiling(value) {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

export class LineChart {
  /**
   * @param {SVGSVGElement} svg
   * @param {{key: string, label: () => string}[]} series  drawn with CSS class `series-<key>`;
   *   `label` says its name in the current language
   * @param {{seconds?: number, height?: number, stacked?: boolean, perSecond?: boolean}} options
   */
  constructor(svg, series, { seconds = 60, height = 170, stacked = false, perSecond = false } = {}) {
    this.svg = svg;
    this.series = series;
    this.seconds = seconds;
    this.height = height;
    this.stacked = stacked;
    this.perSecond = perSecond;
    this.samples = [];
    this.width = 600;
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => this.render()).observe(svg);
    }
    document.addEventListener("ql-projector", () => this.render());
    document.addEventListener("ql-language", () => this.render());
    this.render();
  }

  push(values) {
    this.samples.push(values);
    if (this.samples.length > this.seconds + 1) this.samples.shift();
    this.render();
  }

  render() {
    const { svg, samples } = this;
    const W = Math.max(260, Math.round(svg.clientWidth || this.width));
    const big = document.documentElement.dataset.projector === "on" ? 1.4 : 1;
    this.width = W;

    // The legend first (it may take two rows on a narrow chart): latest value of each series.
    const latest = samples[samples.length - 1] || {};
    const legend = s("g", { class: "chart-legend" });
    const line = 18 * big;
    let offset = M.left;
    let row = 0;
    for (const serie of this.series) {
      const value = fmtNumber(Math.round((latest[serie.key] || 0) * 10) / 10);
      const label = [serie.label(), this.perSecond ? t("%(rate)s/s", { rate: value }) : value].join(" ");
      const width = 24 + displayWidth(label) * 7 * big;
      if (offset > M.left && offset + width > W - M.right) {
        row += 1;
        offset = M.left;
      }
      const top = 6 + row * line;
      legend.append(
        s("rect", { class: `swatch series-${serie.key}`, x: offset, y: top + 2 * big, width: 10, height: 10, rx: 2 }),
        s("text", { x: offset + 14, y: top + 12 * big, "data-series": serie.key }, label),
      );
      offset += width;
    }
    const plotTop = 14 + (row + 1) * line;
    const height = Math.round(this.height * big + row * line);
    svg.setAttribute("viewBox", `0 0 ${W} ${height}`);
    svg.setAttribute("height", String(height));

    const plotW = W - M.left - M.right;
    const plotH = height - plotTop - M.bottom * big;
    const step = plotW / this.seconds;
    const totals = samples.map((sample) =>
      this.stacked
        ? this.series.reduce((sum, serie) => sum + (sample[serie.key] || 0), 0)
        : Math.max(0, ...this.series.map((serie) => sample[serie.key] || 0)),
    );
    const top = niceCeiling(Math.max(0, ...totals));
    const x = (i) => M.left + plotW - (samples.length - 1 - i) * step;
    const y = (v) => plotTop + plotH - (v / top) * plotH;

    clear(svg);
    const grid = s("g", { class: "chart-grid" });
    for (const fraction of [0, 0.5, 1]) {
      const value = top * fraction;
      grid.append(
        s("line", { x1: M.left, x2: W - M.right, y1: y(value), y2: y(value) }),
        s("text", { x: M.left - 6, y: y(value) + 4, "text-anchor": "end" }, fmtNumber(Math.round(value * 10) / 10)),
      );
    }
    grid.append(
      s("text", { x: M.left, y: height - 4 }, t("−%(seconds)s s", { seconds: this.seconds })),
      s("text", { x: W - M.right, y: height - 4, "text-anchor": "end" }, t("now")),
    );
    svg.append(grid);

    if (samples.length > 1) {
      let base = samples.map(() => 0);
      for (const serie of this.series) {
        const values = samples.map((sample) => sample[serie.key] || 0);
        if (this.stacked) {
          const upper = values.map((v, i) => v + base[i]);
          const points = [
            ...upper.map((v, i) => `${x(i)},${y(v)}`),
            ...base.map((v, i) => `${x(i)},${y(v)}`).reverse(),
          ];
          svg.append(s("polygon", { class: `area series-${serie.key}`, points: points.join(" ") }));
          base = upper;
        } else {
          const points = values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
          svg.append(s("polyline", { class: `line series-${serie.key}`, points }));
        }
      }
    }
    svg.append(legend);
  }
}
