// The adjudication view: each copy's mask over the image side by side, the pixels where the copies
// differ coloured by who said what, a preview of the per-class merge, and a canvas to redraw the mask.
// Masks are read and painted with the labeling page's modules (decode, io, labelmap, raster).

import { channel, rgbaOf } from "../labeling/decode.js";
import { errorText, fetchBitmap, makeApi, maskBlobSync } from "../labeling/io.js";
import { LabelMap, UNLABELED, hexToRgb, packRgba } from "../labeling/labelmap.js";
import { strokeSegment } from "../labeling/raster.js";

const root = document.getElementById("adjudicate");
const cfg = JSON.parse(root.dataset.config);
const { width: w, height: h } = cfg;
const api = makeApi(cfg.project);
const classColors = cfg.classes.map((c) => hexToRgb(c.color));
const rgba = (hex, a) => { const [r, g, b] = hexToRgb(hex); return packRgba(r, g, b, a); };

let image = null;
const labels = new Map(); // copy id -> Uint8Array of class ids

function shownClasses() {
  const on = new Set();
  root.querySelectorAll("#class-toggles input[data-class]").forEach((el) => { if (el.checked) on.add(Number(el.dataset.class)); });
  return on;
}

// Image, then an overlay (Uint32 RGBA per pixel) drawn over it.
function compose(canvas, overlay, dim = false) {
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  ctx.globalAlpha = dim ? 0.55 : 1;
  if (image) ctx.drawImage(image, 0, 0);
  ctx.globalAlpha = 1;
  const layer = document.createElement("canvas");
  layer.width = w; layer.height = h;
  layer.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(overlay.buffer), w, h), 0, 0);
  ctx.drawImage(layer, 0, 0);
}

function classLut(shown) {
  const lut = new Uint32Array(256);
  classColors.forEach(([r, g, b], c) => { if (shown.has(c)) lut[c] = packRgba(r, g, b, c === 0 ? 110 : 220); });
  return lut;
}

function drawCopies(shown) {
  const lut = classLut(shown);
  root.querySelectorAll("canvas.adj-canvas[data-copy]").forEach((canvas) => {
    const ids = labels.get(Number(canvas.dataset.copy));
    if (!ids) return;
    const out = new Uint32Array(w * h);
    for (let i = 0; i < ids.length; i++) out[i] = lut[ids[i]];
    compose(canvas, out);
  });
}

// A differing pixel is an annotator's when they alone gave it a shown class; mixed when several copies
// gave it different shown classes; not drawn when the difference is only in hidden classes.
function drawDifference(shown) {
  const canvas = document.getElementById("diff-canvas");
  if (!canvas) return;
  const copies = cfg.copies.filter((c) => labels.has(c.id));
  const maps = copies.map((c) => labels.get(c.id));
  const colors = copies.map((c) => rgba(c.color, 235));
  const mixed = rgba(cfg.mixed, 235);
  const counts = new Array(copies.length).fill(0);
  let nMixed = 0;
  const out = new Uint32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    const first = maps[0][i];
    let differs = false;
    for (let k = 1; k < maps.length; k++) if (maps[k][i] !== first) { differs = true; break; }
    if (!differs) continue;
    let owner = -1, claims = 0;
    const seen = new Set();
    for (let k = 0; k < maps.length; k++) {
      const v = maps[k][i];
      if (v !== UNLABELED && shown.has(v)) { claims++; owner = k; seen.add(v); }
    }
    if (claims === 0) continue;
    if (claims === 1) { out[i] = colors[owner]; counts[owner]++; }
    else if (seen.size > 1) { out[i] = mixed; nMixed++; }
    else if (claims < maps.length) { out[i] = mixed; nMixed++; } // some agree, another copy differs
  }
  compose(canvas, out, true);
  copies.forEach((c, k) => {
    const el = root.querySelector(`output[data-copy="${c.id}"]`);
    if (el) el.textContent = String(counts[k]);
  });
  const m = document.getElementById("diff-mixed");
  if (m) m.textContent = String(nMixed);
}

// The copies' pixel-wise majority (a strict majority of the copies that labeled the pixel), as the
// server computes it for classes the merge does not name (app/annotations/consensus.py).
function majority() {
  const maps = [...labels.values()];
  const out = new Uint8Array(w * h).fill(UNLABELED);
  const votes = new Map();
  for (let i = 0; i < w * h; i++) {
    votes.clear();
    let labeled = 0;
    for (const m of maps) if (m[i] !== UNLABELED) { labeled++; votes.set(m[i], (votes.get(m[i]) || 0) + 1); }
    for (const [c, n] of votes) if (2 * n > labeled) out[i] = c;
  }
  return out;
}

// Class by class in index order, pixels a class's chosen copy gives that class take it (the server's
// merged_mask in app/agreement/adjudication.py).
function drawMergePreview() {
  const canvas = document.getElementById("merge-preview");
  if (!canvas) return;
  const base = majority();
  const merged = new Uint8Array(w * h).fill(UNLABELED);
  root.querySelectorAll("#merge-form select[data-class]").forEach((sel) => {
    const c = Number(sel.dataset.class);
    const src = sel.value ? labels.get(Number(sel.value)) : base;
    if (!src) return;
    for (let i = 0; i < w * h; i++) if (src[i] === c) merged[i] = c;
  });
  const lut = classLut(new Set(cfg.classes.map((c) => c.index)));
  const out = new Uint32Array(w * h);
  for (let i = 0; i < merged.length; i++) out[i] = lut[merged[i]];
  compose(canvas, out);
}

// --- redraw: a LabelMap painted with the labeling page's brush ------------------------------------
const paint = document.getElementById("redraw-canvas");
let map = null, brushClass = 1, last = null;

function startRedraw() {
  const from = document.getElementById("redraw-start").value;
  map = new LabelMap(w, h, cfg.region, classColors);
  if (from && labels.has(Number(from))) map.load(labels.get(Number(from)), null);
  showRedraw();
}
function showRedraw() { compose(paint, new Uint32Array(map.rgba.data.buffer)); }
function pixelAt(ev) {
  const r = paint.getBoundingClientRect();
  return [Math.floor(((ev.clientX - r.left) / r.width) * w), Math.floor(((ev.clientY - r.top) / r.height) * h)];
}
paint.addEventListener("pointerdown", (ev) => {
  if (!map) return;
  paint.setPointerCapture(ev.pointerId);
  last = pixelAt(ev);
  map.begin("brush");
  strokeSegment(map, last, last, Number(document.getElementById("redraw-size").value), brushClass);
  showRedraw();
});
paint.addEventListener("pointermove", (ev) => {
  if (!map || !last) return;
  const p = pixelAt(ev);
  strokeSegment(map, last, p, Number(document.getElementById("redraw-size").value), brushClass);
  last = p;
  showRedraw();
});
const strokeDone = () => { if (map && last) { map.commit(); last = null; } };
paint.addEventListener("pointerup", strokeDone);
paint.addEventListener("pointercancel", strokeDone);
document.getElementById("redraw-undo").addEventListener("click", () => { if (map) { map.undo(); showRedraw(); } });
document.getElementById("redraw-start").addEventListener("change", startRedraw);
root.querySelectorAll("#redraw-classes .class-btn").forEach((b) => b.addEventListener("click", () => {
  brushClass = Number(b.dataset.class);
  root.querySelectorAll("#redraw-classes .class-btn").forEach((o) => o.classList.toggle("active", o === b));
}));
document.getElementById("redraw-save").addEventListener("click", async () => {
  const status = document.getElementById("redraw-status");
  const rationale = document.getElementById("redraw-rationale").value;
  const body = new FormData();
  body.append("mask", maskBlobSync(map.labels, w, h), "mask.png");
  body.append("rationale", rationale);
  status.textContent = "Saving…";
  const r = await api(`/tasks/${cfg.task}/adjudication/redraw`, { method: "POST", body });
  if (!r.ok) { status.textContent = errorText(r, "Saving"); status.classList.add("error"); return; }
  window.location.assign(`/projects/${cfg.project}/adjudication?resolved=${cfg.task}`);
});

function redrawAll() {
  const shown = shownClasses();
  drawCopies(shown);
  drawDifference(shown);
}

async function load() {
  image = await fetchBitmap(cfg.image);
  for (const c of cfg.copies) {
    const bitmap = await fetchBitmap(c.mask);
    labels.set(c.id, channel(rgbaOf(bitmap), 0));
  }
  redrawAll();
  drawMergePreview();
  startRedraw();
  root.dataset.ready = "true";
}

root.querySelectorAll("#class-toggles input").forEach((el) => el.addEventListener("change", redrawAll));
root.querySelectorAll("#merge-form select").forEach((el) => el.addEventListener("change", drawMergePreview));
load().catch((err) => { root.dataset.ready = "error"; document.getElementById("redraw-status").textContent = String(err); });
