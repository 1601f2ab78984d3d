// Finishing a task: submit, taking it again after its lease ran out, and the skip, flag and help
// dialogs.

import { errorText } from "./io.js";
import { encodeMask } from "./jobs.js";
import { $, api, setStatus, ws } from "./page.js";
import { activeSeconds, state, submitDone, submitStarted, taskRetaken, taskSkipped } from "./state.js";
import { clearTask, keeper, loadNext } from "./tasks.js";

export function openDialog(id) {
  const d = $(id);
  if (d.open) return;
  d.querySelectorAll(".error").forEach((e) => { e.textContent = ""; });
  d.showModal();
}
export const dialogOpen = () => document.querySelector("dialog[open]") !== null;

// Skip and flag need a task on screen.
export function openTaskDialog(id) { if (state.task) openDialog(id); }

// "Next" (N): with no task on screen, ask the queue for one. With a task in hand, submit it and move
// on; passing a task on unlabeled is a skip (K), which asks why.
export function next() {
  if (!state.task) { loadNext(); return; }
  if (state.map && state.map.labeled === 0) {
    setStatus("Paint something first (or skip with K).", true, true);
    return;
  }
  submit();
}

export async function submit() {
  const task = state.task, map = state.map;
  if (!task || !map || state.submitting) return;
  if (map.labeled === 0) { setStatus("Paint something first.", true, true); return; }
  submitStarted();
  $("submit").disabled = true;
  setStatus("Submitting…");
  try {
    // A draft save already on its way reaches the server before the submit, never after it (where it
    // would be refused, the lease being gone); one not yet sent stays unsent.
    await keeper.settle();
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
      // Refused (wrong size, unknown classes, lease gone...): say why, keep every pixel. When another
      // tab submitted this task under the same key, taking the task again cannot help; the strokes
      // stay on screen and as this browser's draft (the server's message says so).
      const reused = r.body && r.body.code === "submit_key_reused";
      setStatus(`Not submitted: ${errorText(r, "Submit")}.${reused ? "" : " Your labels are kept."}`, true);
      ws.dataset.submitError = reused ? r.body.code : String(r.status);
      $("retake").hidden = r.status !== 409 || reused;
      keeper.schedule();
      return;
    }
    keeper.drop(task.id);
    ws.dataset.lastAnnotation = String(r.body.id);
    clearTask();
    submitDone();
    await loadNext();
    // The header strip refreshes once the next task is on screen, not in competition with it.
    document.body.dispatchEvent(new CustomEvent("labelwise:submitted"));
    const saved = r.status === 200 ? "That submit had already arrived: saved once." :
      r.body.retrain_queued ? "Saved. The model is retraining…" : "Saved.";
    // When the queue refused the next task (a budget cap, say), its reason stays on screen after "Saved."
    const refused = $("status").classList.contains("error") ? $("status").textContent : "";
    setStatus(refused ? `${saved} ${refused}` : saved, !!refused, !refused);
  } catch (e) {
    setStatus(`Submit failed (${e.message}). Your labels are kept: press Enter to retry.`, true);
    keeper.schedule();
  } finally {
    submitDone();
    $("submit").disabled = !state.task;
  }
}

// After a 409 (the lease ran out): ask for the task again and keep painting where we were.
export async function retake() {
  const task = state.task;
  $("retake").hidden = true;
  if (!task) return;
  const r = await api("/tasks/next", { method: "POST" }).catch(() => null);
  if (!r || !r.ok) { setStatus(r ? errorText(r, "Taking the task again") : "Could not reach the server.", true); return; }
  if (r.body.id === task.id) {
    taskRetaken(r.body);
    ws.dataset.submitError = "";
    setStatus("The task is yours again: press Enter to submit.");
    keeper.schedule();
    return;
  }
  await api(`/tasks/${r.body.id}/release`, { method: "POST" }).catch(() => null);
  setStatus("Someone else has this task now. Your labels stay on screen and in this browser, but cannot be submitted.", true);
}

// The skip and flag dialogs: a text (chips fill it in) posted to /tasks/{id}/{path} as {key: text}.
function bindTaskDialog(id, field, path, key, done) {
  const d = $(id), form = d.querySelector("form");
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
      // As for a submit: a draft save on its way lands first, not after the lease is released.
      await keeper.settle();
      const r = await api(`/tasks/${task.id}/${path}`, { method: "POST", json: { [key]: text } });
      if (!r.ok) { err.textContent = errorText(r, path); return; }
      d.close();
      $(field).value = "";
      if (path === "skip") taskSkipped(task.id);
      keeper.drop(task.id);
      clearTask();
      await loadNext();
      setStatus(done, false, true);
    } catch (e) { err.textContent = `Could not reach the server (${e.message}).`; } finally { button.disabled = false; }
  });
}

export function bindDialogs() {
  bindTaskDialog("skip-dialog", "skip-reason", "skip", "reason", "Skipped: you will not get that task again.");
  bindTaskDialog("flag-dialog", "flag-note", "flag", "note", "Flagged: a lead will look at it.");
  for (const d of document.querySelectorAll("dialog")) {
    d.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => d.close()));
  }
  for (const form of document.querySelectorAll("dialog form")) { // Ctrl+Enter sends a dialog from its text box
    form.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); }
    });
  }
}
