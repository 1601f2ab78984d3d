// Drafts: the mask being painted, autosaved to the server about a second after the last change and
// when the page is hidden or left (fetch keepalive), with a copy in localStorage that restores it when
// the server could not be reached. The client token travels with the draft, so a submit after a
// reload is still the same submit.

import { dataUrlToBlob, errorText, localDataUrl, maskBlobSync, newToken } from "./io.js";
import { decode, encodeMask } from "./jobs.js";
import { UNLABELED } from "./labelmap.js";

const DELAY_MS = 1000, KEEPALIVE_MAX = 60000;

function blobToDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const fr = new FileReader();
    fr.onload = () => resolve(fr.result); fr.onerror = () => reject(fr.error);
    fr.readAsDataURL(blob);
  });
}

function draftForm(mask, seconds, token) {
  const form = new FormData();
  form.append("mask", mask, "draft.png");
  form.append("seconds_spent", seconds.toFixed(2));
  form.append("client_token", token);
  return form;
}

// The browser copy of a draft: kept until the server has it, and as a fallback while offline.
export class LocalDrafts {
  constructor(projectId, userId) { this.prefix = `labelwise:draft:${projectId}:${userId}:`; }
  get(taskId) {
    try { return JSON.parse(localStorage.getItem(this.prefix + taskId) || "null"); } catch { return null; }
  }
  put(taskId, entry) {
    try { localStorage.setItem(this.prefix + taskId, JSON.stringify(entry)); return true; } catch { return false; }
  }
  markSynced(taskId, token, version) {
    const e = this.get(taskId);
    if (e && e.token === token && e.version === version) { e.synced = true; this.put(taskId, e); }
  }
  drop(taskId) { try { localStorage.removeItem(this.prefix + taskId); } catch { /* private mode */ } }
}

export class DraftKeeper {
  // current(): {task, map, token, seconds} of the task on screen (or task null); show(text, kind);
  // busy(): true while a submit is under way (no draft is sent then).
  constructor({ api, local, current, show, busy }) {
    Object.assign(this, { api, local, current, show, busy });
    this.timer = 0; this.pending = null; this.again = false; this.savedVersion = 0;
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") this.flush(); });
    window.addEventListener("pagehide", () => this.flush());
    window.addEventListener("online", () => { const { map } = this.current(); if (map && this.dirty(map)) this.schedule(); });
  }

  dirty(map) { return map.version !== this.savedVersion; }
  cancel() { clearTimeout(this.timer); }

  // Before a submit (with busy() already true): no draft save is left on its way. A save being
  // encoded stops before sending; one already sent is waited for, so the server has it before the
  // submit, which then discards it. A draft arriving after the submit would be refused (the lease is
  // gone) and reported as an error.
  async settle() {
    this.cancel();
    while (this.pending) await this.pending;
    this.cancel();
  }
  drop(taskId) { this.local.drop(taskId); }

  // Which saved draft to restore: the browser's copy unless the server holds a different one.
  pick(task) {
    const local = this.local.get(task.id), server = task.draft || null;
    if (local && (!server || !local.synced || server.client_token === local.token)) return { kind: "local", local };
    if (server) return { kind: "server", server };
    return { kind: "none" };
  }

  load(pick) {
    if (pick.kind === "server") return decode("draft", pick.server.url).catch(() => null);
    if (pick.kind === "local") return decode("draft", dataUrlToBlob(pick.local.png)).catch(() => null);
    return null;
  }

  // Put a loaded draft into `map`; returns the task's client token and active seconds.
  restore(map, pick, draft) {
    this.cancel();
    if (pick.kind === "none" || !draft) {
      this.savedVersion = map.version;
      this.show(pick.kind === "none" ? "none yet" : "could not be read; starting afresh", pick.kind === "none" ? "" : "error");
      return { token: newToken(), seconds: 0, restored: false };
    }
    if (pick.kind === "local") {
      map.load(draft.labels, draft.fromSug);
      this.savedVersion = pick.local.synced ? map.version : -1;
      if (!pick.local.synced) this.schedule(); // the server has not seen this yet
      this.show(pick.local.synced ? "restored" : "restored from this browser", "restored");
      return { token: pick.local.token, seconds: pick.local.seconds || 0, restored: true };
    }
    // The server keeps class ids only: painted pixels agreeing with the suggestion count as accepted.
    const labels = draft.labels, sug = map.suggestion, from = new Uint8Array(labels.length);
    if (sug) for (let i = 0; i < labels.length; i++) from[i] = labels[i] !== UNLABELED && labels[i] === sug[i] ? 1 : 0;
    map.load(labels, from);
    this.savedVersion = map.version;
    this.show("restored from the server", "restored");
    return { token: pick.server.client_token || newToken(), seconds: pick.server.seconds_spent || 0, restored: true };
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), DELAY_MS);
    this.show("unsaved changes", "dirty");
  }

  entry(token, version, seconds, png) { return { token, version, seconds, synced: false, png, at: Date.now() }; }

  save() {
    const { task, map } = this.current();
    if (!task || !map || this.busy()) return;
    if (this.pending) { this.again = true; return; }
    this.pending = this.send(this.current()).finally(() => { this.pending = null; });
  }

  async send({ task, map, token, seconds }) {
    const version = map.version;
    const still = () => this.current().map === map;
    try {
      // The browser copy first (labels in red, provenance in green): it survives a failed request.
      const [local, server] = [encodeMask(map, true), encodeMask(map)]; // both snapshots taken now
      const png = await blobToDataUrl(await local);
      if (!still()) return;
      this.local.put(task.id, this.entry(token, version, seconds, png));
      const form = draftForm(await server, seconds, token);
      // A submit that started while this draft was being encoded wins: the task is about to be done,
      // and a draft sent now would only be refused (409) once the lease is gone.
      if (!still() || this.busy()) return;
      const r = await this.api(`/tasks/${task.id}/draft`, { method: "PUT", body: form });
      if (r.ok) {
        this.local.markSynced(task.id, token, version);
        if (still()) { this.savedVersion = version; this.show(`saved ${new Date().toLocaleTimeString()}`, "saved"); }
      } else if (still()) {
        this.show(`kept in this browser; the server said: ${errorText(r, "Saving the draft")}`, "local");
      }
    } catch {
      if (still()) this.show("offline: kept in this browser, will retry", "local");
    } finally {
      if (this.again || (still() && this.dirty(map) && version !== map.version)) { this.again = false; this.schedule(); }
    }
  }

  // Leaving the page: no promise will be waited for, so encode synchronously and send with keepalive.
  flush() {
    const { task, map, token, seconds } = this.current();
    if (!task || !map || this.busy() || !this.dirty(map)) return;
    this.cancel();
    const version = map.version;
    this.local.put(task.id, this.entry(token, version, seconds, localDataUrl(map.labels, map.fromSug, map.w, map.h)));
    const blob = maskBlobSync(map.labels, map.w, map.h);
    if (blob.size > KEEPALIVE_MAX) return; // too big for keepalive: the browser copy restores it
    this.api(`/tasks/${task.id}/draft`, { method: "PUT", body: draftForm(blob, seconds, token), keepalive: true }).then((r) => {
      if (!r.ok) return;
      this.local.markSynced(task.id, token, version);
      if (this.current().map === map) this.savedVersion = version;
    }).catch(() => {});
  }
}
