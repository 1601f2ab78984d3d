// The lead's dashboard: every .chart[data-plot] drawn with uPlot (vendored, global `uPlot`), again
// whenever HTMX swaps a chart's card in; "Refresh all" asks every card for a fresh copy.

const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000];
const COLORS = ["#2457c5", "#e6194b", "#1d7a3a", "#c77700", "#7b3fb5", "#0f8b8d", "#8a5a44", "#d6336c"];

function seriesOf(plot) {
  const bars = plot.kind === "bars";
  return plot.series.map((s, i) => {
    const color = s.label === "perfect calibration" ? "#9aa3ad" : COLORS[i % COLORS.length];
    return {
      label: s.label, stroke: color, width: 2,
      fill: bars ? color + "b3" : undefined,
      dash: s.label === "perfect calibration" ? [6, 4] : undefined,
      paths: bars ? uPlot.paths.bars({ size: [0.7 / plot.series.length, 80], align: 0 }) : undefined,
      points: { show: !bars },
      spanGaps: true,
    };
  });
}

function draw(el) {
  if (el.dataset.drawn === "true") return;
  const plot = JSON.parse(el.dataset.plot);
  const ticks = plot.ticks;
  const xAxis = { label: plot.xlabel };
  const scales = { x: { time: false } };
  if (ticks) {
    xAxis.splits = () => plot.x;
    xAxis.values = (u, splits) => splits.map((v) => ticks[v] ?? "");
    scales.x.range = () => [-0.5, plot.x.length - 0.5];
  }
  const yAxis = { label: plot.ylabel };
  if (plot.counts) yAxis.incrs = WHOLE; // counts of things: no 0.25 ticks
  if (plot.whole_x && !ticks) xAxis.incrs = WHOLE;
  const opts = {
    width: Math.max(280, el.clientWidth || 520), height: 240,
    scales, axes: [xAxis, yAxis],
    series: [{ label: plot.xlabel, value: (u, v) => (ticks ? (ticks[v] ?? "") : v) }, ...seriesOf(plot)],
    legend: { live: true },
  };
  el.replaceChildren();
  new uPlot(opts, [plot.x, ...plot.series.map((s) => s.values)], el);
  el.dataset.drawn = "true";
}

function drawAll(root) {
  root.querySelectorAll(".chart[data-plot]").forEach(draw);
}

drawAll(document);
document.body.addEventListener("htmx:afterSwap", () => drawAll(document));
document.body.addEventListener("htmx:afterSettle", () => drawAll(document));
const refresh = document.getElementById("refresh-all");
if (refresh) refresh.addEventListener("click", () => window.htmx.trigger(document.body, "refresh-charts"));
