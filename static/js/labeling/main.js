// The labeling page: wires the page's controls, the canvas and the keyboard to the modules that do
// the work. Everything around the canvas is server-rendered (Jinja2 + HTMX).
//
//   state.js   the state and its named transitions      page.js    elements, status lines, view controls
//   tasks.js   the queue, showing a task, look-ahead     tools.js   edits, the pointer, tool settings
//   submit.js  submit, retake, the dialogs               keys.js    the keyboard
//   drafts.js  autosave                                  view.js    canvases, zoom and pan
//   labelmap.js  the label map, undo/redo                raster.js  brush, fill, polygon, superpixels
//   io.js      the server                                jobs.js, worker.js, decode.js  PNGs off the main thread

import { bindKeys } from "./keys.js";
import { $, clock, jumpToDoubt, setLayer, setOpacity, setThreshold, setView, stage, view, ws } from "./page.js";
import { inputSeen, state } from "./state.js";
import { bindDialogs, next, openDialog, openTaskDialog, retake, submit } from "./submit.js";
import { loadNext } from "./tasks.js";
import {
  acceptSuggestion, closePolygon, fillBackground, pointerDown, pointerMove, pointerUp, redo, selectClass, selectTool,
  setSize, undo, wheel,
} from "./tools.js";

window.labelwise = { state, view }; // for the console and the tests

// The header strip refreshes every 5 s; offline it keeps its last figures rather than fail (and log) each try.
document.body.addEventListener("htmx:beforeRequest", (ev) => {
  if (!navigator.onLine && ev.detail.elt.id === "stats") ev.preventDefault();
});

// Active time (before the keyboard's handler, so a key's own gap counts before it submits).
for (const type of ["pointermove", "pointerdown", "keydown", "wheel"]) {
  document.addEventListener(type, () => inputSeen(), { passive: true });
}
setInterval(() => { $("active-time").textContent = clock(state.activeMs); }, 1000);

// The canvas.
stage.addEventListener("pointerdown", pointerDown);
stage.addEventListener("pointermove", pointerMove);
stage.addEventListener("pointerup", pointerUp);
stage.addEventListener("pointercancel", pointerUp);
stage.addEventListener("pointerleave", () => view.showCursor(0, 0, 0, false));
stage.addEventListener("dblclick", () => { if (state.tool === "polygon") closePolygon(); });
stage.addEventListener("auxclick", (ev) => { if (ev.button === 1) ev.preventDefault(); });
stage.addEventListener("wheel", wheel, { passive: false });
new ResizeObserver(() => { view.measure(); if (view.fitted) view.fit(); }).observe(stage);

// The controls.
bindDialogs();
document.querySelectorAll(".class-btn").forEach((b) => b.addEventListener("click", () => selectClass(Number(b.dataset.class))));
document.querySelectorAll(".tool-btn").forEach((b) => b.addEventListener("click", () => selectTool(b.dataset.tool)));
document.querySelectorAll(".view-btn").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));
$("brush-size").addEventListener("input", () => setSize(Number($("brush-size").value)));
$("opacity").addEventListener("input", () => setOpacity(Number($("opacity").value)));
$("show-suggestion").addEventListener("change", (e) => setLayer("show-suggestion", e.target.checked));
$("show-confidence").addEventListener("change", (e) => setLayer("show-confidence", e.target.checked));
$("doubt-threshold").addEventListener("input", () => setThreshold(Number($("doubt-threshold").value)));
$("doubt-next").addEventListener("click", jumpToDoubt);
$("accept-suggestion").addEventListener("click", () => acceptSuggestion(-1));
$("accept-class").addEventListener("click", () => acceptSuggestion(state.classId));
$("fill-background").addEventListener("click", fillBackground);
$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
$("submit").addEventListener("click", submit);
$("next").addEventListener("click", next);
$("skip").addEventListener("click", () => openTaskDialog("skip-dialog"));
$("flag").addEventListener("click", () => openTaskDialog("flag-dialog"));
$("fit").addEventListener("click", () => view.fit());
$("help-open").addEventListener("click", () => openDialog("help-dialog"));
$("empty-retry").addEventListener("click", loadNext);
$("retake").addEventListener("click", retake);
// A clicked button keeps focus; give it back to the canvas so Enter and Space stay shortcuts.
ws.addEventListener("click", (ev) => {
  if (ev.target.closest("button")) stage.focus({ preventScroll: true });
});
bindKeys();
// "Why this task": hovering (or focusing) a reason outlines the part of the image it is about.
const whyBox = (ev) => { const li = ev.target.closest && ev.target.closest("li[data-box]"); return li ? li.dataset.box.split(" ").map(Number) : null; };
$("why-slot").addEventListener("mouseover", (ev) => view.spotlight(whyBox(ev)));
$("why-slot").addEventListener("mouseout", () => view.spotlight(null));
$("why-slot").addEventListener("focusin", (ev) => view.spotlight(whyBox(ev)));
$("why-slot").addEventListener("focusout", () => view.spotlight(null));

const activeClass = document.querySelector(".class-btn.active");
setSize(Number($("brush-size").value));
setOpacity(Number($("opacity").value));
setThreshold(Number($("doubt-threshold").value));
selectClass(activeClass ? Number(activeClass.dataset.class) : 0);
selectTool("brush");
loadNext();
