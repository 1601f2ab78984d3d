// The burn-down charts: remaining budget per day against the plan, and the forecast at the current pace.
// The numbers come from the page (app/budgets/views.py); uPlot is vendored (window.uPlot, loaded deferred).

const COLORS = { remaining: "#2457c5", plan: "#8a96a6", forecast: "#c77700" };

function draw() {
  const holder = document.getElementById("burndown-data");
  if (!holder || !window.uPlot) return;
  const charts = JSON.parse(holder.dataset.charts || "[]");
  charts.forEach((c, i) => {
    const el = document.querySelector(`[data-chart="${i}"]`);
    if (!el) return;
    const xs = c.days.map((d) => Date.parse(`${d}T12:00:00Z`) / 1000);
    const unit = c.unit === "labels" ? "labels" : "hours";
    const opts = {
      width: Math.max(320, el.clientWidth || 800), height: 300,
      scales: { y: { range: (u, min, max) => [Math.min(0, min), Math.max(c.total, max)] } },
      axes: [{}, { label: `${unit} left` }],
      series: [
        { label: "day" },
        { label: "remaining", stroke: COLORS.remaining, width: 2, points: { show: true, size: 4 } },
        { label: "plan", stroke: COLORS.plan, width: 1.5, dash: [6, 4] },
        { label: "forecast", stroke: COLORS.forecast, width: 1.5, dash: [2, 3] },
      ],
    };
    el.replaceChildren();
    // eslint-disable-next-line no-new
    new window.uPlot(opts, [xs, c.remaining, c.plan, c.forecast], el);
    el.dataset.ready = "true";
  });
}

if (document.readyState === "complete") draw(); else window.addEventListener("load", draw);
