// The uncertainty overlay: the model's doubt per pixel (the server's uncertainty PNG, normalised
// entropy 0 = sure .. 255 = unsure) shown only where it passes a threshold, as a tint that deepens
// with the doubt; where the model is sure the image stays untouched (alpha 0). Also the areas of
// most doubt, for "jump to the next uncertain area" (U).

import { packRgba } from "./labelmap.js";

// Just over the threshold .. most unsure; .uncertainty-legend in app.css shows the same stops.
const TINT = [[255, 196, 0], [230, 0, 110]];
const AREA_BLOCKS = 8; // the task's region is cut into up to 8 x 8 blocks when looking for areas

// threshold: 0-255; values at or below it are transparent.
export function doubtLut(threshold) {
  const lut = new Uint32Array(256);
  for (let v = threshold + 1; v < 256; v++) {
    const t = (v - threshold) / Math.max(1, 255 - threshold);
    const c = TINT[0].map((a, j) => Math.round(a + (TINT[1][j] - a) * t));
    lut[v] = packRgba(c[0], c[1], c[2], Math.round(120 + 110 * t));
  }
  return lut;
}

export function tint(values, threshold) {
  const lut = doubtLut(threshold), out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = lut[values[i]];
  return new Uint8ClampedArray(out.buffer);
}

// Blocks of the region where the doubt passes the threshold, most doubt first: [x, y, w, h] each.
export function doubtAreas(values, w, region, threshold) {
  const { x: rx, y: ry, width: rw, height: rh } = region;
  const b = Math.max(8, Math.ceil(Math.max(rw, rh) / AREA_BLOCKS));
  const nx = Math.ceil(rw / b), ny = Math.ceil(rh / b), sums = new Float64Array(nx * ny);
  for (let y = 0; y < rh; y++) {
    const row = (ry + y) * w + rx, by = Math.floor(y / b) * nx;
    for (let x = 0; x < rw; x++) {
      const v = values[row + x];
      if (v > threshold) sums[by + Math.floor(x / b)] += v - threshold;
    }
  }
  const areas = [];
  sums.forEach((s, k) => {
    if (s <= 0) return;
    const x0 = rx + (k % nx) * b, y0 = ry + Math.floor(k / nx) * b;
    areas.push({ s, box: [x0, y0, Math.min(b, rx + rw - x0), Math.min(b, ry + rh - y0)] });
  });
  return areas.sort((p, q) => q.s - p.s).map((a) => a.box);
}
