// Tasks: asking the queue for the next one, showing it (image, suggestion, draft, confidence,
// superpixels), and the look-ahead that fetches the likely next task while the annotator works.

import { DraftKeeper, LocalDrafts } from "./drafts.js";
import { errorText, fetchBitmap } from "./io.js";
import { decode, sized } from "./jobs.js";
import { LabelMap, packRgba } from "./labelmap.js";
import {
  $, SUG_LUT, api, colors, enableTaskButtons, projectId, setDraftStatus, setLayer, setStatus, updateInfo, view, ws,
} from "./page.js";
import { doubtAreas, doubtLut } from "./overlay.js";
import {
  doubtLoaded, isLatest, nextRequested, state, superpixelsRequested, superpixelsSettled, suggestionAutoHidden,
  taskCleared, taskLoaded,
} from "./state.js";

const EDGE = packRgba(0, 229, 255, 100); // superpixel borders

export const keeper = new DraftKeeper({
  api, local: new LocalDrafts(projectId, ws.dataset.user),
  current: () => ({ task: state.task, map: state.map, token: state.token, seconds: state.activeMs / 1000 }),
  show: (text, kind) => setDraftStatus(text, kind), busy: () => state.submitting,
});

const loadSuggestion = (url) => decode("suggestion", url, { lut: SUG_LUT });

// --- the queue ---------------------------------------------------------------------------------
export async function loadNext() {
  const seq = nextRequested();
  performance.clearMarks("labelwise:next");
  performance.mark("labelwise:next");
  ws.dataset.ready = "false";
  $("loading").hidden = false;
  setStatus("Getting the next task…");
  let r;
  // The validation mode (?mode=validation) takes the validation split's tasks in order, not the queue's.
  try { r = await api(ws.dataset.nextPath || "/tasks/next", { method: "POST" }); } catch (e) {
    $("loading").hidden = true;
    setStatus(`Could not reach the server (${e.message}). Press N to try again.`, true);
    return;
  }
  if (!isLatest(seq)) return;
  performance.mark("labelwise:task");
  if (r.status === 404) {
    clearTask();
    $("loading").hidden = true; $("empty").hidden = false; $("canvas-stack").hidden = true;
    setStatus("");
    setDraftStatus("–");
    view.showCursor(0, 0, 0, false);
    $("why-slot").replaceChildren();
    ws.dataset.taskId = $("label-layer").dataset.taskId = "";
    ws.dataset.ready = "empty";
    return;
  }
  if (r.status === 409 && r.body && r.body.code === "confirm_guidelines") {
    // New guidelines: no task until they are read and confirmed (the gate links to them).
    clearTask();
    $("loading").hidden = true; $("canvas-stack").hidden = true;
    $("guidelines-gate-text").textContent = r.body.detail; $("guidelines-gate").hidden = false;
    setStatus("");
    ws.dataset.ready = "guidelines";
    return;
  }
  if (!r.ok) { $("loading").hidden = true; setStatus(errorText(r, "Getting a task"), true); return; }
  try { await showTask(r.body, seq); } catch (e) {
    if (isLatest(seq)) setStatus(`Could not show task ${r.body.id}: ${e.message}`, true);
  } finally { if (isLatest(seq)) $("loading").hidden = true; }
}

export function clearTask() {
  keeper.cancel();
  $("retake").hidden = true;
  enableTaskButtons(false);
  if (state.map) state.map.release();
  taskCleared();
  view.map = null;
  $("task-info").textContent = "–";
  updateInfo();
}

// --- look-ahead: the queue's next free task is fetched and decoded while the annotator works ------
// A guess (another annotator may take it first); a wrong guess costs one download, nothing else.
const ahead = { image: null, mask: null, imageP: null, maskP: null };
const PREFETCH = localStorage.getItem("labelwise:prefetch") !== "off" && !ws.dataset.nextPath;

async function prefetchNext(current) {
  if (!PREFETCH) return;
  let r;
  try { r = await api("/queue?limit=5"); } catch { return; }
  if (!r.ok || !r.body || state.task !== current) return;
  const t = r.body.items.find((e) => !e.leased && e.task_id !== current.id && !state.skipped.has(e.task_id));
  if (!t) return;
  const base = `/api/v1/projects/${projectId}`;
  const image = `${base}/items/${t.item_id}/image`;
  const mv = r.body.model_version_id;
  const mask = mv == null ? null : `${base}/tasks/${t.task_id}/suggestion/mask?mv=${mv}`;
  if (ahead.image === image && ahead.mask === mask) return;
  Object.assign(ahead, { image, mask, imageP: fetchBitmap(image).catch(() => null),
    maskP: mask ? loadSuggestion(mask).catch(() => null) : null });
}

// What the look-ahead fetched for `url` (or a fresh load when it guessed wrong); either way the
// look-ahead's `kind` slot is used up.
function fromAhead(url, kind, load) {
  const hit = url && ahead[kind] === url ? ahead[`${kind}P`] : null;
  ahead[kind] = null; ahead[`${kind}P`] = null;
  if (!url) return null;
  return hit ? hit.then((b) => b || load(url)) : load(url);
}

// --- showing a task ------------------------------------------------------------------------------
async function showTask(task, seq) {
  clearTask();
  const { width: w, height: h } = task.image;
  const pick = keeper.pick(task);
  const loads = [
    fromAhead(task.image.url, "image", fetchBitmap),
    task.suggestion ? fromAhead(task.suggestion.mask_url, "mask", loadSuggestion).catch(() => null)
      : fromAhead(null, "mask", loadSuggestion),
    keeper.load(pick),
  ];
  const map = new LabelMap(w, h, task.region, colors);
  const [image, sugResult, draftResult] = await Promise.all(loads);
  const sug = sized(sugResult, w, h), draft = sized(draftResult, w, h);
  if (!isLatest(seq)) return;
  performance.mark("labelwise:loaded");
  view.setTask(w, h, task.region, map);
  $("canvas-stack").hidden = false; $("empty").hidden = true; $("guidelines-gate").hidden = true;
  view.drawImage(image);
  if (state.sugAutoHidden) { setLayer("show-suggestion", true); suggestionAutoHidden(false); }
  if (sug) {
    map.suggestion = sug.ids;
    view.putLayer(view.suggestion, sug.rgba);
  }
  setStatus(sug ? "" : "No model suggestion for this task yet.");
  const restored = keeper.restore(map, pick, draft);
  taskLoaded({ task, map, suggestionModel: sug ? String(task.suggestion.model_version_id) : null,
    token: restored.token, seconds: restored.seconds });
  if (restored.restored) setStatus("Your draft of this task is back.", false, true);
  view.flush();
  $("label-layer").dataset.taskId = String(task.id);
  ws.dataset.taskId = String(task.id);
  const region = task.region.width === w && task.region.height === h ? "whole image"
    : `region ${task.region.width}×${task.region.height} at ${task.region.x},${task.region.y}`;
  $("task-info").textContent = `#${task.id} · item ${task.item_id} · ${w}×${h} · ${region}`;
  enableTaskButtons(true, !!sug);
  updateInfo();
  if (window.htmx) htmx.ajax("GET", `/projects/${projectId}/label/why/${task.id}`, { target: "#why-slot", swap: "innerHTML" });
  performance.mark("labelwise:drawn");
  requestAnimationFrame(() => {
    if (!isLatest(seq)) return;
    ws.dataset.ready = "true";
    performance.mark("labelwise:visible");
    performance.measure("labelwise:next-to-visible", "labelwise:next", "labelwise:visible");
    setTimeout(() => prefetchNext(task), 0);
  });
  if (task.suggestion) loadUncertainty(task, map);
  if (state.tool === "superpixel") ensureSuperpixels();
}

// The overlay's threshold slider, 0-100 % of the doubt scale, as a grey level 0-255.
export const doubtThreshold = () => Math.round(2.55 * Number($("doubt-threshold").value));

async function loadUncertainty(task, map) {
  try {
    const threshold = doubtThreshold();
    const r = sized(await decode("ramp", task.suggestion.uncertainty_url, { lut: doubtLut(threshold) }), map.w, map.h);
    if (state.map !== map) return;
    if (!r) throw new Error("wrong size");
    view.putLayer(view.uncertainty, r.rgba);
    doubtLoaded(map, r.values, doubtAreas(r.values, map.w, task.region, threshold));
    ws.dataset.confidence = "ready";
  } catch { ws.dataset.confidence = "missing"; }
}

// The superpixel brush's index, loaded once per task (when the tool is first used on it).
export async function ensureSuperpixels() {
  const task = state.task, map = state.map;
  if (!task || !map || map.sp || state.spTask === task.id) return;
  if (!task.superpixels_url) { setStatus("The server sent no superpixels for this task.", true); return; }
  superpixelsRequested(task.id);
  setStatus("Loading superpixels…");
  try {
    const r = sized(await decode("superpixels", task.superpixels_url, { edge: EDGE }), map.w, map.h);
    if (state.map !== map) return;
    if (!r) throw new Error("not the image's size");
    map.setSuperpixels(r.ids);
    view.putLayer(view.edges, r.rgba);
    ws.dataset.superpixels = "ready";
    setStatus("");
  } catch (e) {
    if (state.map === map) setStatus(`Superpixels failed to load (${e.message}).`, true);
  } finally { superpixelsSettled(); }
}
