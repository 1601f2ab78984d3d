// Whole-image work, done once per task and off the main thread when workers are available
// (worker.js runs these; jobs.js falls back to calling them directly).
//
// Every op takes the PNG's RGBA bytes (exact values: no colour management, no premultiplication)
// and returns typed arrays that can be transferred.

export const RAW = { colorSpaceConversion: "none", premultiplyAlpha: "none" };

export async function fetchBlob(url) {
  const res = await fetch(url, { credentials: "same-origin" });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.blob();
}

// A page canvas (`dom`: one that can encode synchronously), or an offscreen one where there is any
// (always in the worker).
export function newCanvas(w, h, dom = false) {
  if (!dom && typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(w, h);
  return Object.assign(document.createElement("canvas"), { width: w, height: h });
}

export function rgbaOf(bitmap) {
  const w = bitmap.width, h = bitmap.height;
  const ctx = newCanvas(w, h).getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, w, h).data;
}

export function channel(rgba, c) {
  const out = new Uint8Array(rgba.length >> 2);
  for (let i = 0, j = c; i < out.length; i++, j += 4) out[i] = rgba[j];
  return out;
}

// op -> (rgba, width, params) -> result object of typed arrays
export const OPS = {
  // Class ids (red channel) and their colours through `lut` (Uint32 RGBA per class id).
  suggestion(rgba, w, { lut }) {
    const ids = channel(rgba, 0), out = new Uint32Array(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = lut[ids[i]];
    return { ids, rgba: new Uint8ClampedArray(out.buffer) };
  },
  // Grey levels through a colour ramp; the grey levels too (`values`), to redraw with another ramp.
  ramp(rgba, w, { lut }) {
    const values = channel(rgba, 0), out = new Uint32Array(values.length);
    for (let i = 0; i < out.length; i++) out[i] = lut[values[i]];
    return { values, rgba: new Uint8ClampedArray(out.buffer) };
  },
  // A draft: class ids in red, provenance (accepted from the suggestion) in green.
  draft(rgba) { return { labels: channel(rgba, 0), fromSug: channel(rgba, 1) }; },
  // Superpixel id = R + 256 G + 65536 B, and their borders drawn in `edge`.
  superpixels(rgba, w, { edge }) {
    const n = rgba.length >> 2, ids = new Int32Array(n), out = new Uint32Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 4) ids[i] = rgba[j] | (rgba[j + 1] << 8) | (rgba[j + 2] << 16);
    for (let i = 0; i < n; i++) {
      const x = i % w;
      if ((x + 1 < w && ids[i] !== ids[i + 1]) || (i + w < n && ids[i] !== ids[i + w])) out[i] = edge;
    }
    return { ids, rgba: new Uint8ClampedArray(out.buffer) };
  },
};

// A label map as PNG: grey levels = class ids (what the server takes), or, with `fromSug`, the
// provenance in the green channel (the browser's own draft copy).
export function maskPixels(labels, fromSug) {
  const px = new Uint32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i], g = fromSug ? (fromSug[i] ? 1 : 0) : v;
    px[i] = (0xff000000 | (v << 16) | (g << 8) | v) >>> 0;
  }
  return new Uint8ClampedArray(px.buffer);
}

// A canvas showing a label map as maskPixels() draws it.
export function maskCanvas(labels, fromSug, w, h, dom = false) {
  const c = newCanvas(w, h, dom);
  c.getContext("2d").putImageData(new ImageData(maskPixels(labels, fromSug), w, h), 0, 0);
  return c;
}

export function encodePng({ labels, fromSug, w, h }) {
  const c = maskCanvas(labels, fromSug, w, h);
  if (c.convertToBlob) return c.convertToBlob({ type: "image/png" });
  return new Promise((resolve) => c.toBlob(resolve, "image/png"));
}

export async function runOp(op, source, params) {
  if (op === "encode") return { blob: await encodePng(params) };
  const blob = source instanceof Blob ? source : await fetchBlob(source);
  const bitmap = await createImageBitmap(blob, RAW);
  const w = bitmap.width, h = bitmap.height;
  const rgba = rgbaOf(bitmap);
  if (bitmap.close) bitmap.close();
  return Object.assign({ w, h }, OPS[op](rgba, w, params || {}));
}

export function transferables(result) {
  return Object.values(result).filter((v) => ArrayBuffer.isView(v)).map((v) => v.buffer);
}
