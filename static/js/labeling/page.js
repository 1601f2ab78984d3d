// The page around the canvas: its elements, the project's classes, the status lines, the task panel
// and the view controls (layers, view mode, opacity). Nothing here talks to the server.

import { makeApi } from "./io.js";
import { hexToRgb, packRgba } from "./labelmap.js";
import { state, suggestionAutoHidden } from "./state.js";
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
export function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
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
  $("accept-suggestion").disabled = $("accept-class").disabled = !(on && withSuggestion);
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
