// The keyboard: every shortcut of the labeling page (the help dialog, templates/labeling/page.html,
// lists them). Keys go to text boxes and open dialogs untouched.

import { $, VIEWS, jumpToDoubt, setLayer, setView, stage, view } from "./page.js";
import { spaceHeld, state } from "./state.js";
import { dialogOpen, next, openDialog, openTaskDialog, submit } from "./submit.js";
import {
  acceptSuggestion, cancelPolygon, closePolygon, dropVertex, fillBackground, growBrush, redo, selectClass,
  selectTool, shrinkBrush, undo,
} from "./tools.js";

function typing(t) {
  return t instanceof HTMLTextAreaElement || t.isContentEditable ||
    (t instanceof HTMLInputElement && !["range", "checkbox", "radio", "button"].includes(t.type));
}

function keydown(ev) {
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
  else if (lower === "g") fillBackground();
  else if (lower === "s") setLayer("show-suggestion", !$("show-suggestion").checked);
  else if (lower === "c") setLayer("show-confidence", !$("show-confidence").checked);
  else if (lower === "u") { if (!ev.repeat) jumpToDoubt(); }
  else if (lower === "v") setView(VIEWS[(VIEWS.indexOf(stage.dataset.view) + 1) % VIEWS.length]);
  else if (lower === "h") stage.classList.add("hide-mask");
  else if (lower === "f") view.fit();
  else if (k === "+" || k === "=") view.zoomCenter(1.25);
  else if (k === "-" || k === "_") view.zoomCenter(0.8);
  else if (k === "[") shrinkBrush();
  else if (k === "]") growBrush();
  else if (k === " ") { spaceHeld(true); stage.classList.add("pan-ready"); view.showCursor(0, 0, 0, false); }
  else if (k === "Enter") { if (ev.repeat) return; if (state.polygon) closePolygon(); else submit(); }
  else if (k === "Escape") { if (!cancelPolygon()) return; }
  else if (k === "Backspace" && state.polygon) dropVertex();
  else if (lower === "k") openTaskDialog("skip-dialog");
  else if (k === "!") openTaskDialog("flag-dialog");
  else if (lower === "n") { if (!ev.repeat) next(); }
  else if (k === "?") openDialog("help-dialog");
  else return;
  ev.preventDefault();
}

function keyup(ev) {
  if (ev.key === " ") { spaceHeld(false); stage.classList.remove("pan-ready"); ev.preventDefault(); }
  if (ev.key === "h" || ev.key === "H") stage.classList.remove("hide-mask");
}

// Leaving the window with Space or H held: their keyup never comes.
function blur() {
  spaceHeld(false);
  stage.classList.remove("pan-ready", "hide-mask");
}

export function bindKeys() {
  document.addEventListener("keydown", keydown);
  document.addEventListener("keyup", keyup);
  window.addEventListener("blur", blur);
}
