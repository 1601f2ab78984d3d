// Talking to the server (JSON API, session cookie + CSRF header) and PNG <-> typed arrays.

import { RAW, maskPixels } from "./decode.js";

const csrf = document.body.dataset.csrf;

export function makeApi(projectId) {
  const base = `/api/v1/projects/${projectId}`;
  return async function api(path, options = {}) {
    const headers = Object.assign({ "X-CSRF-Token": csrf }, options.headers || {});
    const init = Object.assign({}, options, { headers, credentials: "same-origin" });
    if (options.json !== undefined) {
      init.body = JSON.stringify(options.json);
      headers["Content-Type"] = "application/json";
      delete init.json;
    }
    const res = await fetch(base + path, init);
    let body = null;
    if ((res.headers.get("content-type") || "").includes("application/json")) {
      try { body = await res.json(); } catch { body = null; }
    }
    return { ok: res.ok, status: res.status, body };
  };
}

export function errorText(r, what) {
  const d = r.body && r.body.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d) && d.length) return d.map((e) => e.msg || String(e)).join("; ");
  return `${what} failed (HTTP ${r.status})`;
}

function canvas2d(w, h) {
  const c = document.createElement("canvas");
  c.width = w; c.height = h;
  return [c, c.getContext("2d", { willReadFrequently: true })];
}

export async function fetchBitmap(url, signal) {
  const res = await fetch(url, { credentials: "same-origin", signal });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return createImageBitmap(await res.blob(), RAW);
}

// Leaving the page: no promise will be waited for, so these encode synchronously.
function maskCanvas(labels, w, h, fromSug = null) {
  const [c, ctx] = canvas2d(w, h);
  ctx.putImageData(new ImageData(maskPixels(labels, fromSug), w, h), 0, 0);
  return c;
}

export function maskBlobSync(labels, w, h) {
  return dataUrlToBlob(maskCanvas(labels, w, h).toDataURL("image/png"));
}

export function localDataUrl(labels, fromSug, w, h) {
  return maskCanvas(labels, w, h, fromSug).toDataURL("image/png");
}

export function dataUrlToBlob(url) {
  const [head, b64] = url.split(",");
  const bin = atob(b64), bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: head.slice(5).split(";")[0] });
}

export function newToken() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
