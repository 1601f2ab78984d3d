// The page around the canvas: its elements, the project's classes, the status lines, the task panel
// and the view controls (layers, view mode, opacity). Nothing here talks to the server.

import { makeApi } from "./io.js";
import { hexToRgb, packRgba } from "./labelmap.js";
import { doubtAreas, tint } from "./overlay.js";
import { doubtAreasFound, doubtStepped, state, suggestionAutoHidden } from "./state.js";
import { View } from "./view.js";

export const $ = (id) => document.getElementById(id);
export const ws = $("workspace"), stage = $("stage");
export const projectId = ws.dataset.project;
export const colors = JSON.parse(ws.dataset.classes).map(hexToRgb);
export const names = JSON.parse(ws.dataset.names || "[]");
export const api = makeApi(projectId);
export const view = new View(stage);

export const SUG_LUT = new Uint32Array(256); // suggested background stays clear
colors.forEach(([r, g, b], c) => { if (c > 0) SUG_LUT[c] = packRgba(r, g, b, 255); });

// --- status lines ------------------------------------------------------------------------------
// `untilEdit`: the message is about the task as it stands (nothing painted yet, the last task saved, a
// draft restored) and goes away at the next edit that leaves something painted.
export function setStatus(text, isError = false, untilEdit = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
  el.dataset.untilEdit = untilEdit ? "true" : "";
}

export function setDraftStatus(text, kind = "") {
  const el = $("draft-status");
  el.textContent = text;
  el.dataset.state = kind;
}

export function clock(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// The task panel: how much is labeled, and whether undo and redo have anything to do.
export function updateInfo() {
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

// The task's buttons: all off with no task; accepting needs a suggestion.
export function enableTaskButtons(on, withSuggestion = false) {
  for (const id of ["submit", "skip", "flag", "fill-background"]) $(id).disabled = !on;
  // Next: with a task open it submits and moves on; with none it asks the queue.
  $("next").title = on ? "Submit and take the next task (N)" : "Take the next task (N)";
  $("next-label").textContent = on ? "Submit & next" : "Next";
  $("accept-suggestion").disabled = $("accept-class").disabled = !(on && withSuggestion);
}

// After an edit: a message that waited for one goes once something is painted.
export function editSeen() {
  if (state.map && state.map.labeled > 0 && $("status").dataset.untilEdit === "true") setStatus("");
}

// --- view controls -------------------------------------------------------------------------------
export const VIEWS = ["overlay", "image", "mask"];

export function setView(v) {
  stage.dataset.view = v;
  document.querySelectorAll(".view-btn").forEach((b) => b.classList.toggle("active", b.dataset.view === v));
}

export function setOpacity(pct) {
  $("label-layer").style.opacity = String(pct / 100);
  $("opacity-out").textContent = `${pct}%`;
}

// id: "show-suggestion" or "show-confidence" (their checkboxes).
export function setLayer(id, on) {
  if (id === "show-suggestion") suggestionAutoHidden(false);
  $(id).checked = on;
  if (id === "show-suggestion") $("suggestion-layer").classList.toggle("off", !on);
  if (id === "show-confidence") {
    $("uncertainty-layer").classList.toggle("off", !on);
    $("confidence-legend").hidden = !on;
  }
}

// --- the uncertainty overlay ---------------------------------------------------------------------
// pct: 0-100 % of the doubt scale; the tint starts above it.
export function setThreshold(pct) {
  $("doubt-threshold-out").textContent = `${pct}%`;
  $("confidence-legend").style.setProperty("--threshold", `${pct}%`);
  const d = state.doubt, threshold = Math.round(2.55 * pct);
  if (!d || state.map !== d.map) return;
  view.putLayer(view.uncertainty, tint(d.values, threshold));
  doubtAreasFound(doubtAreas(d.values, d.map.w, state.task.region, threshold));
}

// U: pan and zoom to the next area of most doubt (the overlay comes on to show it).
export function jumpToDoubt() {
  if (!state.task) return;
  const box = doubtStepped();
  if (!box) {
    setStatus(state.doubt ? "Nothing here passes the uncertainty threshold: the model is sure of this region."
      : "No uncertainty map for this task yet.", false, true);
    return;
  }
  if (!$("show-confidence").checked) setLayer("show-confidence", true);
  view.focusOn(box);
  view.spotlight(box);
}
