// The tools: edits to the label map (brush, eraser, fill, polygon, superpixels, accepting the
// suggestion, undo/redo), the pointer on the canvas (paint, pan, zoom), and the tool settings.

import { UNLABELED } from "./labelmap.js";
import { $, colors, editSeen, names, setLayer, setStatus, stage, updateInfo, view, ws } from "./page.js";
import {
  classSelected, panEnded, panMoved, panStarted, polygonTaken, polygonVertexAdded, polygonVertexDropped, sizeSet,
  state, strokeEnded, strokeMoved, strokeStarted, suggestionAutoHidden, toolSelected,
} from "./state.js";
import { fill, polygon, strokeSegment, superpixelSegment } from "./raster.js";
import { ensureSuperpixels, keeper } from "./tasks.js";

const TOOLS = ["brush", "eraser", "fill", "polygon", "superpixel"];

// --- edits ---------------------------------------------------------------------------------------
function changed() { updateInfo(); editSeen(); keeper.schedule(); }

function commitAction() { if (state.map.commit()) changed(); }

export function doAction(label, fn) {
  if (!state.map || state.stroke) return;
  state.map.begin(label);
  fn(state.map);
  commitAction();
}

export const fillBackground = () => doAction("rest is background", (m) => m.fillUnlabeled(0));

// onlyClass < 0: every class the suggestion proposes; else that class only.
export function acceptSuggestion(onlyClass) {
  if (!state.map) return;
  if (!state.map.suggestion) { setStatus("No suggestion for this task yet.", true); return; }
  doAction(onlyClass >= 0 ? `accept ${names[onlyClass] || onlyClass}` : "accept", (m) => m.acceptSuggestion(onlyClass));
  if (onlyClass < 0 && $("show-suggestion").checked) {
    // Everything it proposed is now a label: stop drawing it twice.
    setLayer("show-suggestion", false);
    suggestionAutoHidden(true); // shown again on the next task
    setStatus("Suggestion accepted where nothing was painted. S shows it again.");
  }
}

export function undo() {
  if (!state.map || state.stroke) return;
  const what = state.map.undo();
  if (what) { setStatus(`Undid ${what}.`); changed(); }
}
export function redo() {
  if (!state.map || state.stroke) return;
  const what = state.map.redo();
  if (what) { setStatus(`Redid ${what}.`); changed(); }
}

// --- polygon -------------------------------------------------------------------------------------
function addVertex(p) {
  const pts = polygonVertexAdded(p);
  view.setPolygon(pts);
  setStatus(`Polygon: ${pts.length} vertices. Enter or double-click closes, Esc cancels.`);
}

export function closePolygon() {
  const pts = polygonTaken();
  view.setPolygon(null);
  if (!pts) return;
  if (pts.length < 3) { setStatus("A polygon needs at least 3 vertices.", true); return; }
  doAction("polygon", (m) => polygon(m, pts, state.classId));
  setStatus("");
}

// Returns whether a polygon was open.
export function cancelPolygon() {
  if (!polygonTaken()) return false;
  view.setPolygon(null); setStatus("Polygon cancelled.");
  return true;
}

export function dropVertex() { view.setPolygon(polygonVertexDropped()); }

// --- the pointer on the canvas -------------------------------------------------------------------
function pixelAt(ev) {
  const [x, y] = view.toImage(ev.clientX, ev.clientY);
  return [Math.floor(x), Math.floor(y)];
}

function strokeTo(p) {
  const s = state.stroke;
  if (s.last[0] === p[0] && s.last[1] === p[1] && s.started) return;
  if (state.tool === "superpixel") superpixelSegment(state.map, s.last, p, state.size, s.value);
  else strokeSegment(state.map, s.last, p, state.size, s.value);
  strokeMoved(p);
}

export function pointerDown(ev) {
  if (!state.map) return;
  view.measure();
  stage.focus({ preventScroll: true });
  if (ev.button === 1 || (ev.button === 0 && state.space)) {
    panStarted(ev.clientX, ev.clientY);
    stage.setPointerCapture(ev.pointerId);
    stage.classList.add("panning");
    ev.preventDefault();
    return;
  }
  if (ev.button !== 0 || state.stroke) return;
  const p = pixelAt(ev);
  const tool = state.tool;
  if (tool === "fill") { doAction("fill", (m) => fill(m, p[0], p[1], state.classId)); return; }
  if (tool === "polygon") { addVertex(p); return; }
  if (tool === "superpixel" && !state.map.sp) { ensureSuperpixels(); return; }
  stage.setPointerCapture(ev.pointerId);
  state.map.begin(tool);
  strokeStarted(p, tool === "eraser" ? UNLABELED : state.classId);
  strokeTo(p);
}

export function pointerMove(ev) {
  if (state.pan) {
    view.panBy(...panMoved(ev.clientX, ev.clientY));
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
}

export function pointerUp() {
  if (panEnded()) stage.classList.remove("panning");
  if (strokeEnded()) commitAction();
}

export function wheel(ev) {
  if (!state.map) return;
  ev.preventDefault();
  view.measure();
  const unit = ev.deltaMode === 1 ? 0.05 : ev.deltaMode === 2 ? 1 : 0.0015;
  view.zoomAt(ev.clientX, ev.clientY, Math.exp(-ev.deltaY * unit));
}

// --- tool settings -------------------------------------------------------------------------------
export function selectClass(id) {
  if (id < 0 || id >= colors.length) return;
  classSelected(id);
  if (state.tool === "eraser") selectTool("brush");
  document.querySelectorAll(".class-btn").forEach((b) => {
    const on = Number(b.dataset.class) === id;
    b.classList.toggle("active", on);
    b.setAttribute("aria-checked", String(on));
  });
  $("accept-class-name").textContent = names[id] || `class ${id}`;
  ws.dataset.classId = String(id);
}

export function selectTool(tool) {
  if (!TOOLS.includes(tool)) return;
  if (tool !== "polygon") cancelPolygon();
  toolSelected(tool);
  document.querySelectorAll(".tool-btn").forEach((b) => b.classList.toggle("active", b.dataset.tool === tool));
  stage.dataset.tool = tool;
  ws.dataset.tool = tool;
  if (tool === "superpixel") ensureSuperpixels();
}

export function setSize(n) {
  const input = $("brush-size");
  sizeSet(Math.max(Number(input.min), Math.min(Number(input.max), n)));
  input.value = String(state.size);
  $("brush-size-out").textContent = String(state.size);
}

// `[` and `]`: steps of 1 up to 10, of 2 above.
export const growBrush = () => setSize(state.size + (state.size >= 10 ? 2 : 1));
export const shrinkBrush = () => setSize(state.size - (state.size > 10 ? 2 : 1));
