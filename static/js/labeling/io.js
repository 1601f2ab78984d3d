// Talking to the server (JSON API, session cookie + CSRF header) and PNG <-> typed arrays.

import { RAW, fetchBlob, maskCanvas } from "./decode.js";

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

export async function fetchBitmap(url) {
  return createImageBitmap(await fetchBlob(url), RAW);
}

// Leaving the page: no promise will be waited for, so these encode synchronously.
export function maskBlobSync(labels, w, h) {
  return dataUrlToBlob(maskCanvas(labels, null, w, h, true).toDataURL("image/png"));
}

export function localDataUrl(labels, fromSug, w, h) {
  return maskCanvas(labels, fromSug, w, h, true).toDataURL("image/png");
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
