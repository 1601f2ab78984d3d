// The stop advice's evidence on the model versions page: validation foreground mIoU against the labels
// each version was trained on (data from the data-evidence attribute: the CSP forbids inline scripts).
function drawEvidence(el) {
  const data = JSON.parse(el.dataset.evidence || "{}");
  if (!data.labels || data.labels.length === 0 || typeof uPlot === "undefined") return;
  const opts = {
    width: Math.max(320, Math.min(el.clientWidth || 720, 900)),
    height: 260,
    scales: { x: { time: false } },
    axes: [{ label: "labels used" }, { label: "fg mIoU (validation)" }],
    series: [
      { label: "labels", value: (u, v) => (v == null ? "–" : String(v)) },
      { label: "foreground mIoU", stroke: "#2457c5", width: 2, points: { show: true, size: 7 },
        value: (u, v) => (v == null ? "–" : v.toFixed(3)) },
    ],
  };
  el.replaceChildren();
  new uPlot(opts, [data.labels, data.miou_fg], el);
  el.dataset.drawn = "1";
}
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("evidence-chart");
  if (el) drawEvidence(el);
});
