// The quality page's chart: mean IoU and Dice per class (uPlot bars), from the page's data-chart.
(function () {
  const el = document.getElementById("agreement-chart");
  if (!el || typeof uPlot === "undefined") return;
  const data = JSON.parse(el.dataset.chart);
  const n = data.names.length;
  const xs = data.names.map((_, i) => i);
  const nulls = (v) => v.map((x) => (x === null ? null : x));
  const bars = uPlot.paths.bars({ size: [0.35, 60], align: -1 });
  const opts = {
    width: Math.min(720, el.clientWidth || 720), height: 240,
    scales: { x: { time: false, range: [-0.6, n - 0.4] }, y: { range: [0, 1] } },
    axes: [{ values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? data.names[t] || "" : "")), splits: () => xs },
      { label: "agreement" }],
    series: [{}, { label: "mean IoU", stroke: "#1f77d4", fill: "rgba(31,119,212,0.55)", paths: bars, points: { show: false } },
      { label: "mean Dice", stroke: "#e67e22", fill: "rgba(230,126,34,0.55)", paths: uPlot.paths.bars({ size: [0.35, 60], align: 1 }),
        points: { show: false } }],
  };
  new uPlot(opts, [xs, nulls(data.iou), nulls(data.dice)], el);
  el.dataset.ready = "true";
})();
