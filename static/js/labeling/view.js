// What the annotator sees: a stack of canvases at image resolution, moved and scaled as one with a
// CSS transform (zoom and pan never re-render anything), plus an SVG overlay for the task region,
// the polygon being drawn, and a brush cursor in screen space.

const SVG = "http://www.w3.org/2000/svg";
const MIN_SCALE = 0.02, MAX_SCALE = 64;


function el(name, attrs = {}) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export class View {
  constructor(stage) {
    this.stage = stage;
    this.stack = stage.querySelector("#canvas-stack");
    this.image = stage.querySelector("#image-layer");
    this.suggestion = stage.querySelector("#suggestion-layer");
    this.uncertainty = stage.querySelector("#uncertainty-layer");
    this.labels = stage.querySelector("#label-layer");
    this.edges = stage.querySelector("#superpixel-layer");
    this.svg = stage.querySelector("#overlay");
    this.cursor = stage.querySelector("#brush-cursor");
    this.zoomOut = document.getElementById("zoom-level");
    this.s = 1; this.tx = 0; this.ty = 0; this.fitted = true;
    this.w = 0; this.h = 0; this.region = null;
    this.map = null;
    this.rect = stage.getBoundingClientRect();
    this.dim = el("path", { class: "dim", "fill-rule": "evenodd" });
    this.outline = el("rect", { class: "region-outline", fill: "none" });
    this.poly = el("polyline", { class: "poly", fill: "none" });
    this.polyDots = el("g", { class: "poly-dots" });
    this.spot = el("rect", { class: "spotlight hidden", fill: "none" }); // what a "why" reason is about
    this.svg.append(this.dim, this.outline, this.spot, this.poly, this.polyDots);
    this.frame = this.frame.bind(this);
    requestAnimationFrame(this.frame);
  }

  // A new task: size every layer to the image; the label layer shows `map.rgba`.
  setTask(w, h, region, map) {
    this.w = w; this.h = h; this.region = region; this.map = map;
    for (const c of this.layers()) { c.width = w; c.height = h; }
    this.stack.style.width = `${w}px`; this.stack.style.height = `${h}px`;
    this.svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    this.svg.setAttribute("width", w); this.svg.setAttribute("height", h);
    const { x, y, width, height } = region;
    const whole = x <= 0 && y <= 0 && width >= w && height >= h;
    this.dim.setAttribute("d", whole ? "" : `M0 0H${w}V${h}H0Z M${x} ${y}H${x + width}V${y + height}H${x}Z`);
    for (const [k, v] of Object.entries({ x, y, width, height })) this.outline.setAttribute(k, v);
    this.outline.classList.toggle("hidden", whole);
    this.setPolygon(null);
    this.spotlight(null);
    for (const c of this.layers()) c.getContext("2d").clearRect(0, 0, w, h);
    this.fit();
  }

  layers() { return [this.image, this.suggestion, this.uncertainty, this.edges, this.labels]; }

  drawImage(bitmap) { this.image.getContext("2d").drawImage(bitmap, 0, 0); }

  // Whole-image layers (suggestion colours, uncertainty ramp, superpixel borders) are built once per
  // task, off the main thread, and only shown or hidden afterwards.
  putLayer(canvas, rgba) {
    canvas.getContext("2d").putImageData(new ImageData(rgba, this.w, this.h), 0, 0);
  }

  // Only the rectangle the tools dirtied since the last frame is copied to the label canvas.
  flush() {
    const d = this.map && this.map.takeDirty();
    if (!d) return;
    this.labels.getContext("2d").putImageData(this.map.rgba, 0, 0, d[0], d[1], d[2] - d[0], d[3] - d[1]);
  }
  frame() { this.flush(); requestAnimationFrame(this.frame); }

  // --- zoom and pan ----------------------------------------------------------------------------
  apply() {
    this.stack.style.transform = `translate(${this.tx}px, ${this.ty}px) scale(${this.s})`;
    this.stage.classList.toggle("zoomed-in", this.s >= 4);
    const sw = (1.5 / this.s).toFixed(4);
    for (const e of [this.outline, this.poly]) e.setAttribute("stroke-width", sw);
    this.spot.setAttribute("stroke-width", (3 / this.s).toFixed(4));
    for (const c of this.polyDots.children) c.setAttribute("r", (3 / this.s).toFixed(4));
    if (this.zoomOut) this.zoomOut.textContent = `${Math.round(this.s * 100)}%`;
  }
  measure() { this.rect = this.stage.getBoundingClientRect(); }

  // Fit the task region (with some context around it when it is part of the image) to the stage.
  fit() {
    if (!this.w) return;
    this.measure();
    const r = this.region, whole = r.x <= 0 && r.y <= 0 && r.width >= this.w && r.height >= this.h;
    const pad = whole ? 0 : Math.round(0.15 * Math.max(r.width, r.height));
    const bx = Math.max(0, r.x - pad), by = Math.max(0, r.y - pad);
    const bw = Math.min(this.w, r.x + r.width + pad) - bx, bh = Math.min(this.h, r.y + r.height + pad) - by;
    const m = 16;
    this.s = Math.max(MIN_SCALE, Math.min((this.rect.width - 2 * m) / bw, (this.rect.height - 2 * m) / bh));
    this.tx = (this.rect.width - bw * this.s) / 2 - bx * this.s;
    this.ty = (this.rect.height - bh * this.s) / 2 - by * this.s;
    this.fitted = true;
    this.apply();
  }

  zoomAt(clientX, clientY, factor) {
    const s = Math.max(MIN_SCALE, Math.min(MAX_SCALE, this.s * factor));
    const px = clientX - this.rect.left, py = clientY - this.rect.top;
    this.tx = px - ((px - this.tx) * s) / this.s;
    this.ty = py - ((py - this.ty) * s) / this.s;
    this.s = s; this.fitted = false;
    this.apply();
  }
  zoomCenter(factor) { this.zoomAt(this.rect.left + this.rect.width / 2, this.rect.top + this.rect.height / 2, factor); }
  panBy(dx, dy) { this.tx += dx; this.ty += dy; this.fitted = false; this.apply(); }

  // Client coordinates -> image coordinates (floats; floor them for the pixel).
  toImage(clientX, clientY) {
    return [(clientX - this.rect.left - this.tx) / this.s, (clientY - this.rect.top - this.ty) / this.s];
  }

  // Centre `box` ([x, y, w, h] in image pixels) on the stage, zoomed so it fills about a third of it.
  focusOn(box) {
    if (!this.w) return;
    this.measure();
    const [x, y, w, h] = box;
    const s = Math.max(MIN_SCALE, Math.min(MAX_SCALE, Math.min(this.rect.width, this.rect.height) / (3 * Math.max(w, h, 1))));
    this.s = Math.max(s, this.s);
    this.tx = this.rect.width / 2 - (x + w / 2) * this.s;
    this.ty = this.rect.height / 2 - (y + h / 2) * this.s;
    this.fitted = false;
    this.apply();
  }

  // --- overlays ----------------------------------------------------------------------------------
  showCursor(X, Y, size, visible) {
    const c = this.cursor;
    if (!visible) { c.hidden = true; return; }
    const d = Math.max(2, size * this.s);
    const left = this.tx + (X + 0.5) * this.s - d / 2, top = this.ty + (Y + 0.5) * this.s - d / 2;
    c.hidden = false;
    c.style.width = `${d}px`; c.style.height = `${d}px`;
    c.style.transform = `translate(${left}px, ${top}px)`;
  }

  // box: [x, y, w, h] in image pixels to outline, or null to hide the outline.
  spotlight(box) {
    this.spot.classList.toggle("hidden", !box);
    if (!box) return;
    const [x, y, width, height] = box;
    for (const [k, v] of Object.entries({ x, y, width, height })) this.spot.setAttribute(k, v);
  }

  // pts: pixel indices of the vertices so far; `hover` is where the next one would go.
  setPolygon(pts, hover = null) {
    if (!pts || !pts.length) { this.poly.setAttribute("points", ""); this.polyDots.replaceChildren(); return; }
    const all = hover ? pts.concat([hover]) : pts;
    this.poly.setAttribute("points", all.map(([x, y]) => `${x + 0.5},${y + 0.5}`).join(" "));
    this.poly.setAttribute("stroke-width", (1.5 / this.s).toFixed(4));
    if (this.polyDots.children.length !== pts.length) {
      this.polyDots.replaceChildren(...pts.map(([x, y]) => el("circle", { cx: x + 0.5, cy: y + 0.5, r: (3 / this.s).toFixed(4) })));
    }
  }
}
