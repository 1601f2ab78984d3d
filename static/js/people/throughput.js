// The annotator record's throughput chart: labels per day (bars, left axis) and the median active
// seconds per label that day (line, right axis). Data comes from the element's data-chart attribute.
(function () {
  "use strict";

  function draw(el) {
    const data = JSON.parse(el.dataset.chart);
    const xs = data.days.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
    const opts = {
      width: Math.max(320, el.clientWidth),
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      // Half a day either side, so the first and last bars are drawn whole.
      scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] },
                labels: { range: (u, min, max) => [0, Math.max(1, max)] }, s: {} },
      series: [
        {},
        { label: "labels", scale: "labels", stroke: "#2457c5", fill: "rgba(36,87,197,0.35)",
          paths: uPlot.paths.bars({ size: [0.7, 40] }), points: { show: false } },
        { label: "median s / label", scale: "s", stroke: "#c77700", width: 2, spanGaps: true,
          value: (u, v) => (v == null ? "–" : v.toFixed(1)) },
      ],
      axes: [
        {},
        { scale: "labels", label: "labels", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
        { scale: "s", side: 1, label: "seconds", grid: { show: false } },
      ],
    };
    el.textContent = "";
    const chart = new uPlot(opts, [xs, data.labels, data.seconds], el);
    window.addEventListener("resize", () => chart.setSize({ width: Math.max(320, el.clientWidth), height: 240 }));
  }

  function start() {
    const el = document.getElementById("throughput-chart");
    if (el && window.uPlot) draw(el);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
