// The labeling page: the queue, the canvas tools, drafts, submit/skip/flag and the keyboard.
// Everything around the canvas is server-rendered (Jinja2 + HTMX); this module owns the canvas.

import { DraftKeeper, LocalDrafts } from "./drafts.js";
import { errorText, fetchBitmap, makeApi } from "./io.js";
import { decode, encodeMask, sized } from "./jobs.js";
import { LabelMap, UNLABELED, hexToRgb, packRgba } from "./labelmap.js";
import { RAMP_LUT, View } from "./view.js";

const $ = (id) => document.getElementById(id);
const ws = $("workspace"), stage = $("stage");
const projectId = ws.dataset.project;
const colors = JSON.parse(ws.dataset.classes).map(hexToRgb);
const names = JSON.parse(ws.dataset.names || "[]");
const api = makeApi(projectId);
const view = new View(stage);
const IDLE_MS = 30000;
const TOOLS = ["brush", "eraser", "fill", "polygon", "superpixel"];
const VIEWS = ["overlay", "image", "mask"];
const SUG_LUT = new Uint32Array(256); // suggested background stays clear
colors.forEach(([r, g, b], c) => { if (c > 0) SUG_LUT[c] = packRgba(r, g, b, 255); });
const EDGE = packRgba(0, 229, 255, 100); // superpixel borders

const activeBtn = document.querySelector(".class-btn.active");
const state = {
  task: null, map: null, token: null, seq: 0, suggestionModel: null,
  classId: activeBtn ? Number(activeBtn.dataset.class) : 0, tool: "brush", size: 4,
  stroke: null, pan: null, space: false, polygon: null,
  activeMs: 0, lastInput: 0,
  submitting: false, spTask: null, skipped: new Set(),
};
const keeper = new DraftKeeper({
  api, projectId, local: new LocalDrafts(projectId, ws.dataset.user),
  current: () => ({ task: state.task, map: state.map, token: state.token, seconds: state.activeMs / 1000 }),
  show: (text, kind) => setDraftStatus(text, kind), busy: () => state.submitting,
});
window.labelwise = { state, view }; // for the console and the tests

// The header strip refreshes every 5 s; offline it keeps its last figures rather than fail (and log) each try.
document.body.addEventListener("htmx:beforeRequest", (ev) => {
  if (!navigator.onLine && ev.detail.elt.id === "stats") ev.preventDefault();
});

// --- status lines ------------------------------------------------------------------------------
function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}
function setDraftStatus(text, kind = "") {
  const el = $("draft-status");
  el.textContent = text;
  el.dataset.state = kind;
}
function clock(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// Active time: the gaps between inputs (pointer, keys, wheel) count when shorter than IDLE_MS.
function touch() {
  const now = performance.now();
  if (state.task && state.lastInput && now - state.lastInput < IDLE_MS) state.activeMs += now - state.lastInput;
  state.lastInput = now;
}
const activeSeconds = () => (state.activeMs / 1000).toFixed(2);
for (const type of ["pointermove", "pointerdown", "keydown", "wheel"]) document.addEventListener(type, touch, { passive: true });
setInterval(() => { $("active-time").textContent = clock(state.activeMs); }, 1000);

function updateInfo() {
  const m = state.map;
  if (!m) { $("labeled-info").textContent = "–"; $("undo").disabled = $("redo").disabled = true; return; }
  const area = (m.rx1 - m.rx0) * (m.ry1 - m.ry0);
  const pct = area ? (100 * m.labeled) / area : 0;
  let text = `${pct.toFixed(pct > 0 && pct < 1 ? 1 : 0)}% of the region`;
  if (m.suggestion) text += ` · ${Math.round(100 * m.suggestionFraction())}% from suggestion`;
  $("labeled-info").textContent = text;
  ws.dataset.suggestionFraction = m.suggestionFraction().toFixed(4);
  $("undo").disabled = !m.undoStack.length;
  $("redo").disabled = !m.redoStack.length;
}

// --- the queue ---------------------------------------------------------------------------------
async function loadNext() {
  const seq = ++state.seq;
  performance.clearMarks("labelwise:next");
  performance.mark("labelwise:next");
  ws.dataset.ready = "false";
  $("loading").hidden = false;
  setStatus("Getting the next task…");
  let r;
  try { r = await api("/tasks/next", { method: "POST" }); } catch (e) {
    $("loading").hidden = true;
    setStatus(`Could not reach the server (${e.message}). Press N to try again.`, true);
    return;
  }
  if (seq !== state.seq) return;
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
  if (!r.ok) { $("loading").hidden = true; setStatus(errorText(r, "Getting a task"), true); return; }
  try { await showTask(r.body, seq); } catch (e) {
    if (seq === state.seq) setStatus(`Could not show task ${r.body.id}: ${e.message}`, true);
  } finally { if (seq === state.seq) $("loading").hidden = true; }
}

function clearTask() {
  keeper.cancel();
  $("retake").hidden = true;
  for (const id of ["submit", "skip", "flag", "accept-suggestion", "accept-class", "fill-background"]) $(id).disabled = true;
  if (state.map) state.map.release();
  state.task = null; state.map = null; state.polygon = null; state.stroke = null;
  view.map = null;
  $("task-info").textContent = "–";
  updateInfo();
}

// --- look-ahead: the queue's next free task is fetched and decoded while the annotator works ------
// A guess (another annotator may take it first); a wrong guess costs one download, nothing else.
const ahead = { image: null, mask: null, imageP: null, maskP: null };
const PREFETCH = localStorage.getItem("labelwise:prefetch") !== "off";

async function prefetchNext(current) {
  if (!PREFETCH) return;
  let r;
  try { r = await api("/queue?limit=5"); } catch { return; }
  if (!r.ok || !r.body || state.task !== current) return;
  const t = r.body.tasks.find((e) => !e.leased && e.task_id !== current.id && !state.skipped.has(e.task_id));
  if (!t) return;
  const base = `/api/v1/projects/${projectId}`;
  const image = `${base}/items/${t.item_id}/image`;
  const mv = r.body.model_version_id;
  const mask = mv == null ? null : `${base}/tasks/${t.task_id}/suggestion/mask?mv=${mv}`;
  if (ahead.image === image && ahead.mask === mask) return;
  Object.assign(ahead, { image, mask, imageP: fetchBitmap(image).catch(() => null),
    maskP: mask ? decode("suggestion", mask, { lut: SUG_LUT }).catch(() => null) : null });
}

function fromAhead(url, kind, load) {
  const hit = url && ahead[kind] === url ? ahead[`${kind}P`] : null;
  ahead[kind] = null; ahead[`${kind}P`] = null;
  if (!url) return null;
  return hit ? hit.then((b) => b || load(url)) : load(url);
}

async function showTask(task, seq) {
  clearTask();
  const { width: w, height: h } = task.image;
  const pick = keeper.pick(task);
  const loadSuggestion = (url) => decode("suggestion", url, { lut: SUG_LUT });
  const loads = [
    fromAhead(task.image.url, "image", fetchBitmap),
    task.suggestion ? fromAhead(task.suggestion.mask_url, "mask", loadSuggestion).catch(() => null)
      : (fromAhead(null, "mask", loadSuggestion), null),
    keeper.load(pick),
  ];
  const map = new LabelMap(w, h, task.region, colors);
  const [image, sugResult, draftResult] = await Promise.all(loads);
  const sug = sized(sugResult, w, h), draft = sized(draftResult, w, h);
  if (seq !== state.seq) return;
  performance.mark("labelwise:loaded");
  state.task = task; state.map = map; state.polygon = null;
  state.suggestionModel = null;
  view.setTask(w, h, task.region, map);
  $("canvas-stack").hidden = false; $("empty").hidden = true;
  view.drawImage(image);
  if (state.sugAutoHidden) { setLayer("show-suggestion", true); state.sugAutoHidden = false; }
  if (sug) {
    map.suggestion = sug.ids;
    state.suggestionModel = String(task.suggestion.model_version_id);
    view.putLayer(view.suggestion, sug.rgba);
  }
  setStatus(sug ? "" : "No model suggestion for this task yet.");
  const restored = keeper.restore(map, pick, draft);
  state.token = restored.token; state.activeMs = 1000 * restored.seconds;
  if (restored.restored) setStatus("Your draft of this task is back.");
  view.flush();
  state.lastInput = performance.now();
  $("label-layer").dataset.taskId = String(task.id);
  ws.dataset.taskId = String(task.id);
  const region = task.region.width === w && task.region.height === h ? "whole image"
    : `region ${task.region.width}×${task.region.height} at ${task.region.x},${task.region.y}`;
  $("task-info").textContent = `#${task.id} · item ${task.item_id} · ${w}×${h} · ${region}`;
  $("accept-suggestion").disabled = $("accept-class").disabled = !sug;
  for (const id of ["submit", "skip", "flag", "fill-background"]) $(id).disabled = false;
  updateInfo();
  if (window.htmx) htmx.ajax("GET", `/projects/${projectId}/label/why/${task.id}`, { target: "#why-slot", swap: "innerHTML" });
  performance.mark("labelwise:drawn");
  requestAnimationFrame(() => {
    if (seq !== state.seq) return;
    ws.dataset.ready = "true";
    performance.mark("labelwise:visible");
    performance.measure("labelwise:next-to-visible", "labelwise:next", "labelwise:visible");
    setTimeout(() => prefetchNext(task), 0);
  });
  if (task.suggestion) loadUncertainty(task, map);
  if (state.tool === "superpixel") ensureSuperpixels();
}

async function loadUncertainty(task, map) {
  try {
    const r = sized(await decode("ramp", task.suggestion.uncertainty_url, { lut: RAMP_LUT }), map.w, map.h);
    if (state.map !== map) return;
    if (!r) throw new Error("wrong size");
    view.putLayer(view.uncertainty, r.rgba);
    ws.dataset.confidence = "ready";
  } catch { ws.dataset.confidence = "missing"; }
}

async function ensureSuperpixels() {
  const task = state.task, map = state.map;
  if (!task || !map || map.sp || state.spTask === task.id) return;
  if (!task.superpixels_url) { setStatus("The server sent no superpixels for this task.", true); return; }
  state.spTask = task.id;
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
  } finally { state.spTask = null; }
}

// --- edits ---------------------------------------------------------------------------------------
function changed() { updateInfo(); keeper.schedule(); }

function commitAction() { if (state.map.commit()) changed(); }

function doAction(label, fn) {
  if (!state.map || state.stroke) return;
  state.map.begin(label);
  fn(state.map);
  commitAction();
}

function acceptSuggestion(onlyClass) {
  if (!state.map) return;
  if (!state.map.suggestion) { setStatus("No suggestion for this task yet.", true); return; }
  doAction(onlyClass >= 0 ? `accept ${names[onlyClass] || onlyClass}` : "accept", (m) => m.acceptSuggestion(onlyClass));
  if (onlyClass < 0 && $("show-suggestion").checked) {
    // Everything it proposed is now a label: stop drawing it twice.
    setLayer("show-suggestion", false);
    state.sugAutoHidden = true; // shown again on the next task
    setStatus("Suggestion accepted where nothing was painted. S shows it again.");
  }
}

function undo() {
  if (!state.map || state.stroke) return;
  const what = state.map.undo();
  if (what) { setStatus(`Undid ${what}.`); changed(); }
}
function redo() {
  if (!state.map || state.stroke) return;
  const what = state.map.redo();
  if (what) { setStatus(`Redid ${what}.`); changed(); }
}

function pixelAt(ev) {
  const [x, y] = view.toImage(ev.clientX, ev.clientY);
  return [Math.floor(x), Math.floor(y)];
}

function strokeTo(p) {
  const s = state.stroke;
  if (s.last[0] === p[0] && s.last[1] === p[1] && s.started) return;
  if (state.tool === "superpixel") state.map.superpixelSegment(s.last, p, state.size, s.value);
  else state.map.strokeSegment(s.last, p, state.size, s.value);
  s.last = p; s.started = true;
}

function addVertex(p) {
  const pts = state.polygon || (state.polygon = []);
  const last = pts[pts.length - 1];
  if (!last || last[0] !== p[0] || last[1] !== p[1]) pts.push(p);
  view.setPolygon(pts);
  setStatus(`Polygon: ${pts.length} vertices. Enter or double-click closes, Esc cancels.`);
}
function closePolygon() {
  const pts = state.polygon;
  state.polygon = null; view.setPolygon(null);
  if (!pts) return;
  if (pts.length < 3) { setStatus("A polygon needs at least 3 vertices.", true); return; }
  doAction("polygon", (m) => m.polygon(pts, state.classId));
  setStatus("");
}
function cancelPolygon() {
  if (!state.polygon) return false;
  state.polygon = null; view.setPolygon(null); setStatus("Polygon cancelled.");
  return true;
}

stage.addEventListener("pointerdown", (ev) => {
  if (!state.map) return;
  view.measure();
  stage.focus({ preventScroll: true });
  if (ev.button === 1 || (ev.button === 0 && state.space)) {
    state.pan = { x: ev.clientX, y: ev.clientY };
    stage.setPointerCapture(ev.pointerId);
    stage.classList.add("panning");
    ev.preventDefault();
    return;
  }
  if (ev.button !== 0 || state.stroke) return;
  const p = pixelAt(ev);
  const tool = state.tool;
  if (tool === "fill") { doAction("fill", (m) => m.fill(p[0], p[1], state.classId)); return; }
  if (tool === "polygon") { addVertex(p); return; }
  if (tool === "superpixel" && !state.map.sp) { ensureSuperpixels(); return; }
  stage.setPointerCapture(ev.pointerId);
  state.map.begin(tool);
  state.stroke = { last: p, value: tool === "eraser" ? UNLABELED : state.classId, started: false };
  strokeTo(p);
});

stage.addEventListener("pointermove", (ev) => {
  if (state.pan) {
    view.panBy(ev.clientX - state.pan.x, ev.clientY - state.pan.y);
    state.pan.x = ev.clientX; state.pan.y = ev.clientY;
    return;
  }
  if (!state.map) return;
  if (state.stroke) {
    const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [];
    for (const e of events.length ? events : [ev]) strokeTo(pixelAt(e));
  }
  const p = pixelAt(ev);
  const brushy = state.tool === "brush" || state.tool === "eraser" || state.tool === "superpixel";
  view.showCursor(p[0], p[1], state.size, brushy && !state.space);
  if (state.polygon) view.setPolygon(state.polygon, p);
});

function endPointer() {
  if (state.pan) { state.pan = null; stage.classList.remove("panning"); }
  if (state.stroke) { state.stroke = null; commitAction(); }
}
stage.addEventListener("pointerup", endPointer);
stage.addEventListener("pointercancel", endPointer);
stage.addEventListener("pointerleave", () => view.showCursor(0, 0, 0, false));
stage.addEventListener("dblclick", () => { if (state.tool === "polygon") closePolygon(); });
stage.addEventListener("auxclick", (ev) => { if (ev.button === 1) ev.preventDefault(); });
stage.addEventListener("wheel", (ev) => {
  if (!state.map) return;
  ev.preventDefault();
  view.measure();
  const unit = ev.deltaMode === 1 ? 0.05 : ev.deltaMode === 2 ? 1 : 0.0015;
  view.zoomAt(ev.clientX, ev.clientY, Math.exp(-ev.deltaY * unit));
}, { passive: false });
new ResizeObserver(() => { view.measure(); if (view.fitted) view.fit(); }).observe(stage);

// --- controls ------------------------------------------------------------------------------------
function selectClass(id) {
  if (id < 0 || id >= colors.length) return;
  state.classId = id;
  if (state.tool === "eraser") selectTool("brush");
  document.querySelectorAll(".class-btn").forEach((b) => {
    const on = Number(b.dataset.class) === id;
    b.classList.toggle("active", on);
    b.setAttribute("aria-checked", String(on));
  });
  $("accept-class-name").textContent = names[id] || `class ${id}`;
  ws.dataset.classId = String(id);
}

function selectTool(tool) {
  if (!TOOLS.includes(tool)) return;
  if (tool !== "polygon") cancelPolygon();
  state.tool = tool;
  document.querySelectorAll(".tool-btn").forEach((b) => b.classList.toggle("active", b.dataset.tool === tool));
  stage.dataset.tool = tool;
  ws.dataset.tool = tool;
  if (tool === "superpixel") ensureSuperpixels();
}

function setSize(n) {
  const input = $("brush-size");
  state.size = Math.max(Number(input.min), Math.min(Number(input.max), n));
  input.value = String(state.size);
  $("brush-size-out").textContent = String(state.size);
}

function setOpacity(pct) {
  $("label-layer").style.opacity = String(pct / 100);
  $("opacity-out").textContent = `${pct}%`;
}

function setView(v) {
  stage.dataset.view = v;
  document.querySelectorAll(".view-btn").forEach((b) => b.classList.toggle("active", b.dataset.view === v));
}

function setLayer(id, on) {
  const box = $(id);
  if (id === "show-suggestion") state.sugAutoHidden = false;
  box.checked = on;
  if (id === "show-suggestion") $("suggestion-layer").classList.toggle("off", !on);
  if (id === "show-confidence") {
    $("uncertainty-layer").classList.toggle("off", !on);
    $("confidence-legend").hidden = !on;
  }
}

function openDialog(id) {
  const d = $(id);
  if (d.open) return;
  d.querySelectorAll(".error").forEach((e) => { e.textContent = ""; });
  d.showModal();
}
const dialogOpen = () => document.querySelector("dialog[open]") !== null;

// "Next": with no task on screen, ask the queue for one. With a task in hand, passing it on is a
// skip (a released task would come straight back: it is still the top of the queue), which asks why.
function next() {
  if (state.task) { openDialog("skip-dialog"); return; }
  loadNext();
}

async function submit() {
  const task = state.task, map = state.map;
  if (!task || !map || state.submitting) return;
  if (map.labeled === 0) { setStatus("Paint something first.", true); return; }
  state.submitting = true;
  $("submit").disabled = true;
  keeper.cancel();
  setStatus("Submitting…");
  try {
    const form = new FormData();
    form.append("mask", await encodeMask(map), "mask.png");
    form.append("seconds_spent", activeSeconds());
    form.append("client_token", state.token); // the same token on a retry: one annotation
    if (state.suggestionModel) {
      form.append("model_version_id", state.suggestionModel);
      form.append("suggestion_fraction", map.suggestionFraction().toFixed(4));
    }
    const r = await api(`/tasks/${task.id}/annotations`, { method: "POST", body: form });
    if (!r.ok) {
      // Refused (wrong size, unknown classes, lease gone...): say why, keep every pixel.
      setStatus(`Not submitted: ${errorText(r, "Submit")}. Your labels are kept.`, true);
      ws.dataset.submitError = String(r.status);
      $("retake").hidden = r.status !== 409;
      keeper.schedule();
      return;
    }
    keeper.drop(task.id);
    ws.dataset.lastAnnotation = String(r.body.id);
    clearTask();
    state.submitting = false;
    await loadNext();
    // The header strip refreshes once the next task is on screen, not in competition with it.
    document.body.dispatchEvent(new CustomEvent("labelwise:submitted"));
    setStatus(r.status === 200 ? "That submit had already arrived: saved once." :
      r.body.retrain_queued ? "Saved. The model is retraining…" : "Saved.");
  } catch (e) {
    setStatus(`Submit failed (${e.message}). Your labels are kept: press Enter to retry.`, true);
    keeper.schedule();
  } finally {
    state.submitting = false;
    $("submit").disabled = !state.task;
  }
}

// After a 409 (the lease ran out): ask for the task again and keep painting where we were.
async function retake() {
  const task = state.task;
  $("retake").hidden = true;
  if (!task) return;
  const r = await api("/tasks/next", { method: "POST" }).catch(() => null);
  if (!r || !r.ok) { setStatus(r ? errorText(r, "Taking the task again") : "Could not reach the server.", true); return; }
  if (r.body.id === task.id) {
    state.task = r.body;
    ws.dataset.submitError = "";
    setStatus("The task is yours again: press Enter to submit.");
    keeper.schedule();
    return;
  }
  await api(`/tasks/${r.body.id}/release`, { method: "POST" }).catch(() => null);
  setStatus("Someone else has this task now. Your labels stay on screen and in this browser, but cannot be submitted.", true);
}

function bindDialog(id, formId, field, path, key, done) {
  const d = $(id), form = $(formId);
  d.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => d.close()));
  d.querySelectorAll("[data-reason]").forEach((b) => b.addEventListener("click", () => {
    $(field).value = b.dataset.reason; $(field).focus();
  }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const task = state.task, text = $(field).value.trim();
    const err = d.querySelector(".error");
    if (!task) { d.close(); return; }
    if (!text) { err.textContent = "Please write a few words."; return; }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const r = await api(`/tasks/${task.id}/${path}`, { method: "POST", json: { [key]: text } });
      if (!r.ok) { err.textContent = errorText(r, path); return; }
      d.close();
      $(field).value = "";
      if (path === "skip") state.skipped.add(task.id);
      keeper.drop(task.id);
      clearTask();
      await loadNext();
      setStatus(done);
    } catch (e) { err.textContent = `Could not reach the server (${e.message}).`; } finally { button.disabled = false; }
  });
}
bindDialog("skip-dialog", "skip-form", "skip-reason", "skip", "reason", "Skipped: you will not get that task again.");
bindDialog("flag-dialog", "flag-form", "flag-note", "flag", "note", "Flagged: a lead will look at it.");
$("help-dialog").querySelector("[data-close]").addEventListener("click", () => $("help-dialog").close());

document.querySelectorAll(".class-btn").forEach((b) => b.addEventListener("click", () => selectClass(Number(b.dataset.class))));
document.querySelectorAll(".tool-btn").forEach((b) => b.addEventListener("click", () => selectTool(b.dataset.tool)));
document.querySelectorAll(".view-btn").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));
$("brush-size").addEventListener("input", () => setSize(Number($("brush-size").value)));
$("opacity").addEventListener("input", () => setOpacity(Number($("opacity").value)));
$("show-suggestion").addEventListener("change", (e) => setLayer("show-suggestion", e.target.checked));
$("show-confidence").addEventListener("change", (e) => setLayer("show-confidence", e.target.checked));
$("accept-suggestion").addEventListener("click", () => acceptSuggestion(-1));
$("accept-class").addEventListener("click", () => acceptSuggestion(state.classId));
$("fill-background").addEventListener("click", () => doAction("rest is background", (m) => m.fillUnlabeled(0)));
$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
$("submit").addEventListener("click", submit);
$("skip").addEventListener("click", () => state.task && openDialog("skip-dialog"));
$("flag").addEventListener("click", () => state.task && openDialog("flag-dialog"));
$("fit").addEventListener("click", () => view.fit());
$("help-open").addEventListener("click", () => openDialog("help-dialog"));
$("empty-retry").addEventListener("click", loadNext);
for (const form of document.querySelectorAll("dialog form")) { // Ctrl+Enter sends a dialog from its text box
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); }
  });
}
$("retake").addEventListener("click", retake);
// A clicked button keeps focus; give it back to the canvas so Enter and Space stay shortcuts.
ws.addEventListener("click", (ev) => {
  if (ev.target.closest("button")) stage.focus({ preventScroll: true });
});

// --- keyboard ----------------------------------------------------------------------------------
function typing(t) {
  return t instanceof HTMLTextAreaElement || t.isContentEditable ||
    (t instanceof HTMLInputElement && !["range", "checkbox", "radio", "button"].includes(t.type));
}

document.addEventListener("keydown", (ev) => {
  if (dialogOpen() || typing(ev.target)) return;
  const k = ev.key, lower = k.length === 1 ? k.toLowerCase() : k;
  if ((ev.ctrlKey || ev.metaKey) && !ev.altKey) {
    if (lower === "z") { if (ev.shiftKey) redo(); else undo(); } else if (lower === "y") redo(); else return;
    ev.preventDefault();
    return;
  }
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  if (/^[0-9]$/.test(k)) selectClass(Number(k));
  else if (lower === "b") selectTool("brush");
  else if (lower === "e") selectTool("eraser");
  else if (lower === "r") selectTool("fill");
  else if (lower === "p") selectTool("polygon");
  else if (lower === "w") selectTool("superpixel");
  else if (lower === "a") acceptSuggestion(ev.shiftKey ? state.classId : -1);
  else if (lower === "g") doAction("rest is background", (m) => m.fillUnlabeled(0));
  else if (lower === "s") setLayer("show-suggestion", !$("show-suggestion").checked);
  else if (lower === "c") setLayer("show-confidence", !$("show-confidence").checked);
  else if (lower === "v") setView(VIEWS[(VIEWS.indexOf(stage.dataset.view) + 1) % VIEWS.length]);
  else if (lower === "h") stage.classList.add("hide-mask");
  else if (lower === "f") view.fit();
  else if (k === "+" || k === "=") view.zoomCenter(1.25);
  else if (k === "-" || k === "_") view.zoomCenter(0.8);
  else if (k === "[") setSize(state.size - (state.size > 10 ? 2 : 1));
  else if (k === "]") setSize(state.size + (state.size >= 10 ? 2 : 1));
  else if (k === " ") { state.space = true; stage.classList.add("pan-ready"); view.showCursor(0, 0, 0, false); }
  else if (k === "Enter") { if (ev.repeat) return; if (state.polygon) closePolygon(); else submit(); }
  else if (k === "Escape") { if (!cancelPolygon()) return; }
  else if (k === "Backspace" && state.polygon) { state.polygon.pop(); view.setPolygon(state.polygon); }
  else if (lower === "k") { if (state.task) openDialog("skip-dialog"); }
  else if (k === "!") { if (state.task) openDialog("flag-dialog"); }
  else if (lower === "n") { if (!ev.repeat) next(); }
  else if (k === "?") openDialog("help-dialog");
  else return;
  ev.preventDefault();
});

document.addEventListener("keyup", (ev) => {
  if (ev.key === " ") { state.space = false; stage.classList.remove("pan-ready"); ev.preventDefault(); }
  if (ev.key === "h" || ev.key === "H") stage.classList.remove("hide-mask");
});
window.addEventListener("blur", () => {
  state.space = false;
  stage.classList.remove("pan-ready", "hide-mask");
});

setSize(Number($("brush-size").value));
setOpacity(Number($("opacity").value));
selectClass(state.classId);
selectTool("brush");
loadNext();
