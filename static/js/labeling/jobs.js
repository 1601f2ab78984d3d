// The main thread's side of worker.js: whole-image decoding and PNG encoding off the main thread,
// or on it when module workers are unavailable.

import { runOp } from "./decode.js";

const jobs = new Map();
let worker = null, seq = 0;
try {
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (ev) => {
    const job = jobs.get(ev.data.id);
    if (!job) return;
    jobs.delete(ev.data.id);
    if (ev.data.error) job.reject(new Error(ev.data.error)); else job.resolve(ev.data.result);
  };
  worker.onerror = () => { // the worker could not start: do the pending jobs here
    worker = null;
    for (const [id, job] of jobs) { jobs.delete(id); runOp(job.op, job.source, job.params).then(job.resolve, job.reject); }
  };
} catch { worker = null; }

// op: see OPS in decode.js; source: a URL or a Blob.
export function decode(op, source, params) {
  if (!worker) return runOp(op, source, params);
  return new Promise((resolve, reject) => {
    const id = ++seq;
    jobs.set(id, { resolve, reject, op, source, params });
    worker.postMessage({ id, op, source, params }); // typed arrays in params are copied now
  });
}

// PNG of a label map (a snapshot taken now): grey class ids, or with the provenance in green.
export function encodeMask(map, withProvenance = false) {
  const params = { labels: map.labels, fromSug: withProvenance ? map.fromSug : null, w: map.w, h: map.h };
  return decode("encode", null, params).then((r) => r.blob);
}

// A decoded layer, or null when it is missing or not the image's size (then it is left out).
export function sized(result, w, h) {
  if (!result) return null;
  if (result.w === w && result.h === h) return result;
  console.warn(`layer is ${result.w}x${result.h}, the image ${w}x${h}: ignored`);
  return null;
}
