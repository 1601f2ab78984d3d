// The labeling canvas. The label map is a Uint8Array of class ids (255 = unlabeled) at image
// resolution; the canvases only show it. Submitting sends it as a grey-level PNG.

const UNLABELED = 255;
const ws = document.getElementById("workspace");
const projectId = ws.dataset.project;
const classColors = JSON.parse(ws.dataset.classes).map(hexToRgb);
const csrf = document.body.dataset.csrf;
const api = `/api/v1/projects/${projectId}`;

const imageLayer = document.getElementById("image-layer");
const suggestionLayer = document.getElementById("suggestion-layer");
const labelLayer = document.getElementById("label-layer");
const statusEl = document.getElementById("status");

const state = {
  task: null, width: 0, height: 0,
  labels: null, fromSuggestion: null, suggestion: null, suggestionModel: null,
  classId: 1, tool: "brush", size: 4, painting: false, last: null,
  startedAt: 0, activeMs: 0, lastActivity: 0, clientToken: null, submitting: false,
};

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle("error", isError);
}

// Active time: intervals between inputs count only when shorter than the idle cut-off.
const IDLE_MS = 30000;
function touchActivity() {
  const now = performance.now();
  if (state.lastActivity && now - state.lastActivity < IDLE_MS) state.activeMs += now - state.lastActivity;
  state.lastActivity = now;
}

async function apiFetch(path, options = {}) {
  const headers = Object.assign({ "X-CSRF-Token": csrf }, options.headers || {});
  const res = await fetch(api + path, Object.assign({}, options, { headers, credentials: "same-origin" }));
  let body = null;
  const type = res.headers.get("content-type") || "";
  if (type.includes("application/json")) body = await res.json();
  return { ok: res.ok, status: res.status, body, res };
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("image failed to load"));
    img.src = url;
  });
}

function sizeCanvases(w, h) {
  for (const c of [imageLayer, suggestionLayer, labelLayer]) { c.width = w; c.height = h; }
  fitToStage();
}

function fitToStage() {
  const stage = document.getElementById("stage");
  const stack = document.getElementById("canvas-stack");
  if (!state.width) return;
  const scale = Math.max(0.1, Math.min((stage.clientWidth - 16) / state.width, (stage.clientHeight - 16) / state.height));
  stack.style.width = `${Math.floor(state.width * scale)}px`;
  stack.style.height = `${Math.floor(state.height * scale)}px`;
}

async function nextTask() {
  setStatus("Getting the next task…");
  const r = await apiFetch("/tasks/next", { method: "POST" });
  if (r.status === 404) {
    state.task = null;
    document.getElementById("empty").hidden = false;
    document.getElementById("canvas-stack").hidden = true;
    setStatus("");
    return;
  }
  if (!r.ok) { setStatus(r.body?.detail || `Error ${r.status}`, true); return; }
  await showTask(r.body);
}

async function showTask(task) {
  state.task = task;
  state.width = task.image.width; state.height = task.image.height;
  state.labels = new Uint8Array(state.width * state.height).fill(UNLABELED);
  state.fromSuggestion = new Uint8Array(state.width * state.height);
  state.suggestion = null; state.suggestionModel = null;
  state.clientToken = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  state.activeMs = 0; state.lastActivity = performance.now();
  document.getElementById("empty").hidden = true;
  document.getElementById("canvas-stack").hidden = false;
  sizeCanvases(state.width, state.height);
  const [img] = await Promise.all([loadImage(task.image.url), loadSuggestion(task.suggestion)]);
  imageLayer.getContext("2d").drawImage(img, 0, 0);
  dimOutsideRegion();
  redrawLabels(0, 0, state.width, state.height);
  redrawSuggestion();
  labelLayer.dataset.taskId = String(task.id);
  document.getElementById("task-info").textContent =
    `Task ${task.id} · item ${task.item_id} · ${state.width}×${state.height}`;
  if (window.htmx) {
    htmx.ajax("GET", `/projects/${projectId}/label/why/${task.id}`, { target: "#why-slot", swap: "innerHTML" });
  }
  ws.dataset.ready = "true";
  setStatus("");
}

function dimOutsideRegion() {
  const { x, y, width, height } = state.task.region;
  if (x === 0 && y === 0 && width === state.width && height === state.height) return;
  const ctx = imageLayer.getContext("2d");
  ctx.save();
  ctx.fillStyle = "rgba(0,0,0,0.55)";
  ctx.beginPath();
  ctx.rect(0, 0, state.width, state.height);
  ctx.rect(x, y, width, height);
  ctx.fill("evenodd");
  ctx.restore();
}

async function loadSuggestion(suggestion) {
  if (!suggestion) return; // no model has scored this project yet
  const res = await fetch(suggestion.mask_url, { credentials: "same-origin" });
  if (!res.ok) return;
  state.suggestionModel = String(suggestion.model_version_id);
  const bitmap = await createImageBitmap(await res.blob());
  const off = document.createElement("canvas");
  off.width = state.width; off.height = state.height;
  const ctx = off.getContext("2d");
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, state.width, state.height).data;
  const ids = new Uint8Array(state.width * state.height);
  for (let i = 0; i < ids.length; i++) ids[i] = data[i * 4];
  state.suggestion = ids;
}

function redrawSuggestion() {
  const ctx = suggestionLayer.getContext("2d");
  ctx.clearRect(0, 0, state.width, state.height);
  if (!state.suggestion || !document.getElementById("show-suggestion").checked) return;
  const img = ctx.createImageData(state.width, state.height);
  for (let i = 0; i < state.suggestion.length; i++) {
    const c = state.suggestion[i];
    if (c === 0 || c >= classColors.length) continue; // background is left clear
    const rgb = classColors[c];
    img.data[i * 4] = rgb[0]; img.data[i * 4 + 1] = rgb[1]; img.data[i * 4 + 2] = rgb[2]; img.data[i * 4 + 3] = 110;
  }
  ctx.putImageData(img, 0, 0);
}

function redrawLabels(x0, y0, w, h) {
  x0 = Math.max(0, Math.floor(x0)); y0 = Math.max(0, Math.floor(y0));
  w = Math.min(state.width - x0, Math.ceil(w)); h = Math.min(state.height - y0, Math.ceil(h));
  if (w <= 0 || h <= 0) return;
  const ctx = labelLayer.getContext("2d");
  const img = ctx.createImageData(w, h);
  const alpha = Math.round(255 * Number(document.getElementById("opacity").value) / 100);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = state.labels[(y0 + y) * state.width + x0 + x];
      if (c === UNLABELED) continue;
      const o = (y * w + x) * 4, rgb = classColors[c] || [255, 0, 255];
      img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2];
      img.data[o + 3] = c === 0 ? Math.round(alpha * 0.35) : alpha;
    }
  }
  ctx.putImageData(img, x0, y0);
}

function toImageCoords(ev) {
  const rect = labelLayer.getBoundingClientRect();
  return [(ev.clientX - rect.left) * state.width / rect.width, (ev.clientY - rect.top) * state.height / rect.height];
}

// Stamp a disk at every step along the segment, so fast strokes leave no gaps.
function paintSegment(a, b) {
  const r = state.size / 2, value = state.tool === "eraser" ? UNLABELED : state.classId;
  const { x: rx, y: ry, width: rw, height: rh } = state.task.region;
  const dist = Math.hypot(b[0] - a[0], b[1] - a[1]);
  const steps = Math.max(1, Math.ceil(dist / Math.max(0.5, r / 2)));
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let s = 0; s <= steps; s++) {
    const cx = a[0] + (b[0] - a[0]) * s / steps, cy = a[1] + (b[1] - a[1]) * s / steps;
    const x0 = Math.max(rx, Math.floor(cx - r)), x1 = Math.min(rx + rw - 1, Math.ceil(cx + r));
    const y0 = Math.max(ry, Math.floor(cy - r)), y1 = Math.min(ry + rh - 1, Math.ceil(cy + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > r * r && r >= 1) continue;
        const i = y * state.width + x;
        state.labels[i] = value; state.fromSuggestion[i] = 0;
      }
    }
    minX = Math.min(minX, x0); minY = Math.min(minY, y0); maxX = Math.max(maxX, x1); maxY = Math.max(maxY, y1);
  }
  if (minX <= maxX) redrawLabels(minX, minY, maxX - minX + 1, maxY - minY + 1);
}

labelLayer.addEventListener("pointerdown", (ev) => {
  if (!state.task || ev.button !== 0) return;
  labelLayer.setPointerCapture(ev.pointerId);
  state.painting = true; touchActivity();
  const p = toImageCoords(ev);
  paintSegment(p, p); state.last = p;
});
labelLayer.addEventListener("pointermove", (ev) => {
  if (!state.painting) return;
  const p = toImageCoords(ev);
  paintSegment(state.last, p); state.last = p; touchActivity();
});
for (const type of ["pointerup", "pointercancel"]) {
  labelLayer.addEventListener(type, () => { state.painting = false; state.last = null; });
}

function acceptSuggestion() {
  if (!state.suggestion) { setStatus("No suggestion for this task yet.", true); return; }
  const { x: rx, y: ry, width: rw, height: rh } = state.task.region;
  for (let y = ry; y < ry + rh; y++) {
    for (let x = rx; x < rx + rw; x++) {
      const i = y * state.width + x;
      if (state.labels[i] === UNLABELED) { state.labels[i] = state.suggestion[i]; state.fromSuggestion[i] = 1; }
    }
  }
  touchActivity();
  redrawLabels(0, 0, state.width, state.height);
}

function fillBackground() {
  const { x: rx, y: ry, width: rw, height: rh } = state.task.region;
  for (let y = ry; y < ry + rh; y++) {
    for (let x = rx; x < rx + rw; x++) {
      const i = y * state.width + x;
      if (state.labels[i] === UNLABELED) state.labels[i] = 0;
    }
  }
  touchActivity();
  redrawLabels(0, 0, state.width, state.height);
}

function maskBlob() {
  const off = document.createElement("canvas");
  off.width = state.width; off.height = state.height;
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(state.width, state.height);
  for (let i = 0; i < state.labels.length; i++) {
    const v = state.labels[i];
    img.data[i * 4] = v; img.data[i * 4 + 1] = v; img.data[i * 4 + 2] = v; img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return new Promise((resolve) => off.toBlob(resolve, "image/png"));
}

async function submit() {
  if (!state.task || state.submitting) return;
  let labeled = 0, suggested = 0;
  for (let i = 0; i < state.labels.length; i++) {
    if (state.labels[i] !== UNLABELED) { labeled++; suggested += state.fromSuggestion[i]; }
  }
  if (labeled === 0) { setStatus("Paint something first.", true); return; }
  state.submitting = true; touchActivity();
  setStatus("Submitting…");
  const form = new FormData();
  form.append("mask", await maskBlob(), "mask.png");
  form.append("seconds_spent", (state.activeMs / 1000).toFixed(2));
  form.append("client_token", state.clientToken);
  if (state.suggestionModel) {
    form.append("model_version_id", state.suggestionModel);
    form.append("suggestion_fraction", (suggested / labeled).toFixed(4));
  }
  try {
    const r = await apiFetch(`/tasks/${state.task.id}/annotations`, { method: "POST", body: form });
    if (!r.ok) { setStatus(r.body?.detail || `Submit failed (${r.status})`, true); return; }
    document.body.dispatchEvent(new CustomEvent("labelwise:submitted"));
    setStatus(r.body.retrain_queued ? "Saved. Retraining the model…" : "Saved.");
    ws.dataset.lastAnnotation = String(r.body.id);
    await nextTask();
  } catch (err) {
    setStatus(`Submit failed: ${err.message}. Your painting is kept; try again.`, true);
  } finally {
    state.submitting = false;
  }
}

function selectClass(id) {
  if (id >= classColors.length) return;
  state.classId = id;
  if (state.tool === "eraser") selectTool("brush");
  document.querySelectorAll(".class-btn").forEach((b) => b.classList.toggle("active", Number(b.dataset.class) === id));
}

function selectTool(tool) {
  state.tool = tool;
  document.querySelectorAll(".tool-btn").forEach((b) => b.classList.toggle("active", b.dataset.tool === tool));
}

document.querySelectorAll(".class-btn").forEach((b) => b.addEventListener("click", () => selectClass(Number(b.dataset.class))));
document.querySelectorAll(".tool-btn").forEach((b) => b.addEventListener("click", () => selectTool(b.dataset.tool)));
const sizeInput = document.getElementById("brush-size");
sizeInput.addEventListener("input", () => {
  state.size = Number(sizeInput.value);
  document.getElementById("brush-size-out").textContent = sizeInput.value;
});
document.getElementById("opacity").addEventListener("input", () => state.task && redrawLabels(0, 0, state.width, state.height));
document.getElementById("show-suggestion").addEventListener("change", redrawSuggestion);
document.getElementById("accept-suggestion").addEventListener("click", acceptSuggestion);
document.getElementById("fill-background").addEventListener("click", fillBackground);
document.getElementById("submit").addEventListener("click", submit);
document.getElementById("next").addEventListener("click", async () => {
  if (state.task) await apiFetch(`/tasks/${state.task.id}/release`, { method: "POST" });
  await nextTask();
});
window.addEventListener("resize", fitToStage);

document.addEventListener("keydown", (ev) => {
  if (ev.target instanceof HTMLInputElement && ev.target.type !== "range" && ev.target.type !== "checkbox") return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const k = ev.key.toLowerCase();
  if (/^[0-9]$/.test(k)) { selectClass(Number(k)); }
  else if (k === "b") selectTool("brush");
  else if (k === "e") selectTool("eraser");
  else if (k === "a") acceptSuggestion();
  else if (k === "g") fillBackground();
  else if (k === "s") { const cb = document.getElementById("show-suggestion"); cb.checked = !cb.checked; redrawSuggestion(); }
  else if (k === "enter") submit();
  else if (k === "n") document.getElementById("next").click();
  else if (k === "[") { sizeInput.value = String(Math.max(1, state.size - 1)); sizeInput.dispatchEvent(new Event("input")); }
  else if (k === "]") { sizeInput.value = String(Math.min(40, state.size + 1)); sizeInput.dispatchEvent(new Event("input")); }
  else return;
  ev.preventDefault();
});

nextTask();
