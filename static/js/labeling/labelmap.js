// The label map and every tool that writes it, with undo/redo as per-action diffs.
//
// labels[i]  class id of pixel i = y * width + x (255 = unlabeled); this is what gets submitted.
// fromSug[i] 1 when the pixel's label was taken from the model's suggestion (accept), 0 when painted.
// rgba       the label colours at image resolution; only dirty rectangles are rewritten and shown.
//
// Rasterisation rules (tests/browser/raster.py reproduces them exactly):
//  * A pointer position (px, py) in image coordinates lands on pixel (X, Y) = (floor(px), floor(py)).
//  * Brush / eraser stamp of size s at pixel (X, Y): pixel (x, y) is painted when
//    (x + 0.5 - (X + 0.5))^2 + (y + 0.5 - (Y + 0.5))^2 <= (s / 2)^2, i.e. (x - X)^2 + (y - Y)^2 <= s^2 / 4.
//  * A stroke stamps at every pixel of the Bresenham line between consecutive pointer positions.
//  * Polygon: vertices snap to pixel centres; a pixel is filled when its centre is inside (even-odd,
//    scanline, half-open: xa <= x + 0.5 < xb between crossing pairs on row centre y + 0.5), and the
//    outline (Bresenham between consecutive vertices, closed) is painted too.
//  * Fill: 4-connected region of the clicked pixel's current label.
//  * Superpixel brush: every superpixel with a pixel under the brush footprint is painted whole.
// Every tool writes only inside the task's region.

export const UNLABELED = 255;
const HISTORY_LIMIT = 200; // actions
const HISTORY_CELLS = 64 * 1024 * 1024; // recorded pixels across all kept actions

class Diff {
  constructor() {
    this.n = 0;
    this.idx = new Int32Array(1024);
    this.val = new Uint16Array(1024); // label | fromSug << 8
    this.x0 = Infinity; this.y0 = Infinity; this.x1 = -Infinity; this.y1 = -Infinity;
    this.label = "";
  }
  push(i, v) {
    if (this.n === this.idx.length) {
      const idx = new Int32Array(this.n * 2); idx.set(this.idx); this.idx = idx;
      const val = new Uint16Array(this.n * 2); val.set(this.val); this.val = val;
    }
    this.idx[this.n] = i; this.val[this.n] = v; this.n++;
  }
  reserve(more) {
    if (this.n + more <= this.idx.length) return;
    const size = this.n + more;
    const idx = new Int32Array(size); idx.set(this.idx.subarray(0, this.n)); this.idx = idx;
    const val = new Uint16Array(size); val.set(this.val.subarray(0, this.n)); this.val = val;
  }
  grow(x0, y0, x1, y1) { // inclusive-exclusive box of pixels this action may touch
    if (x0 < this.x0) this.x0 = x0; if (y0 < this.y0) this.y0 = y0;
    if (x1 > this.x1) this.x1 = x1; if (y1 > this.y1) this.y1 = y1;
  }
}

export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// Little-endian RGBA packed into a Uint32 (the byte order of ImageData on every platform we target).
export function packRgba(r, g, b, a) { return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0; }

// The buffers of the last finished task, reused by the next one of the same size: no garbage piles
// up task after task (a major GC mid-stroke is a dropped frame).
let spare = null;
let serials = 0; // action serials increase across tasks, so a reused `mark` buffer needs no clearing

export class LabelMap {
  constructor(width, height, region, colors) {
    this.w = width; this.h = height; this.n = width * height;
    this.rx0 = Math.max(0, region.x); this.ry0 = Math.max(0, region.y);
    this.rx1 = Math.min(width, region.x + region.width); this.ry1 = Math.min(height, region.y + region.height);
    this.numClasses = colors.length;
    if (spare && spare.w === width && spare.h === height) {
      Object.assign(this, spare.buffers);
      spare = null;
      this.labels.fill(UNLABELED); this.fromSug.fill(0); this.px.fill(0);
    } else {
      this.labels = new Uint8Array(this.n).fill(UNLABELED);
      this.fromSug = new Uint8Array(this.n);
      this.mark = new Uint32Array(this.n); // action serial that last recorded pixel i
      this.rgba = new ImageData(width, height);
      this.px = new Uint32Array(this.rgba.data.buffer);
    }
    this.serial = serials;
    this.lut = new Uint32Array(256);
    colors.forEach(([r, g, b], c) => { this.lut[c] = packRgba(r, g, b, c === 0 ? 110 : 255); });
    this.labeled = 0; this.suggested = 0; // counts kept exact through every edit, undo and redo
    this.undoStack = []; this.redoStack = []; this.cells = 0;
    this.action = null;
    this.dirty = null; // [x0, y0, x1, y1) waiting to be drawn
    this.version = 0; // bumps on every committed change (autosave watches it)
    this.suggestion = null; // Uint8Array of suggested class ids, once loaded
    this.sp = null; // superpixel index, once loaded
  }

  inRegion(x, y) { return x >= this.rx0 && x < this.rx1 && y >= this.ry0 && y < this.ry1; }
  suggestionFraction() { return this.labeled ? this.suggested / this.labeled : 0; }

  markDirty(x0, y0, x1, y1) {
    if (x0 >= x1 || y0 >= y1) return;
    const d = this.dirty;
    if (!d) this.dirty = [x0, y0, x1, y1];
    else { d[0] = Math.min(d[0], x0); d[1] = Math.min(d[1], y0); d[2] = Math.max(d[2], x1); d[3] = Math.max(d[3], y1); }
  }
  takeDirty() { const d = this.dirty; this.dirty = null; return d; }

  // --- actions -------------------------------------------------------------------------------
  // The task is over: hand the buffers to the next map (nothing may read this one afterwards).
  release() {
    const { labels, fromSug, mark, rgba, px } = this;
    spare = { w: this.w, h: this.h, buffers: { labels, fromSug, mark, rgba, px } };
    this.labels = this.fromSug = this.mark = this.px = null; this.rgba = null;
  }

  begin(label) {
    if (this.action) this.commit();
    this.serial = ++serials;
    this.action = new Diff();
    this.action.label = label;
    return this.action;
  }
  commit() {
    const a = this.action;
    this.action = null;
    if (!a || a.n === 0) return false;
    this.undoStack.push(a); this.cells += a.n;
    this.redoStack = [];
    while (this.undoStack.length > HISTORY_LIMIT || (this.cells > HISTORY_CELLS && this.undoStack.length > 1)) {
      this.cells -= this.undoStack.shift().n;
    }
    this.version++;
    return true;
  }

  // The one write path during an action: records the old value once per action.
  set(i, v, s) {
    const old = this.labels[i], olds = this.fromSug[i];
    if (old === v && olds === s) return;
    if (this.mark[i] !== this.serial) { this.mark[i] = this.serial; this.action.push(i, old | (olds << 8)); }
    this.labeled += (v !== UNLABELED) - (old !== UNLABELED);
    this.suggested += (v !== UNLABELED && s === 1) - (old !== UNLABELED && olds === 1);
    this.labels[i] = v; this.fromSug[i] = s; this.px[i] = this.lut[v];
  }

  // Undo and redo swap the recorded values with the current ones: the same diff serves both ways.
  swap(diff) {
    const { idx, val } = diff, { labels, fromSug, px, lut } = this;
    let labeled = 0, suggested = 0;
    for (let k = 0, n = diff.n; k < n; k++) {
      const i = idx[k], vs = val[k], v = vs & 255, s = vs >> 8;
      const old = labels[i], olds = fromSug[i];
      val[k] = old | (olds << 8);
      if (v !== UNLABELED) { labeled++; suggested += s; }
      if (old !== UNLABELED) { labeled--; suggested -= olds; }
      labels[i] = v; fromSug[i] = s; px[i] = lut[v];
    }
    this.labeled += labeled; this.suggested += suggested;
    this.markDirty(diff.x0, diff.y0, diff.x1, diff.y1);
    this.version++;
  }
  undo() {
    if (this.action) this.commit();
    const d = this.undoStack.pop();
    if (!d) return null;
    this.cells -= d.n; this.swap(d); this.redoStack.push(d);
    return d.label;
  }
  redo() {
    const d = this.redoStack.pop();
    if (!d) return null;
    this.swap(d); this.undoStack.push(d); this.cells += d.n;
    return d.label;
  }

  // --- brush, eraser ---------------------------------------------------------------------------
  // Stamp a disk of size `size` centred on pixel (X, Y); value 255 erases.
  stamp(X, Y, size, value) {
    const r2 = (size * size) / 4, R = Math.floor(size / 2);
    const y0 = Math.max(this.ry0, Y - R), y1 = Math.min(this.ry1 - 1, Y + R);
    for (let y = y0; y <= y1; y++) {
      const dy = y - Y, hw = Math.floor(Math.sqrt(r2 - dy * dy));
      const xa = Math.max(this.rx0, X - hw), xb = Math.min(this.rx1 - 1, X + hw);
      const row = y * this.w;
      for (let x = xa; x <= xb; x++) this.set(row + x, value, 0);
    }
    const bx0 = Math.max(this.rx0, X - R), by0 = Math.max(this.ry0, Y - R);
    const bx1 = Math.min(this.rx1, X + R + 1), by1 = Math.min(this.ry1, Y + R + 1);
    if (bx0 < bx1 && by0 < by1) { this.action.grow(bx0, by0, bx1, by1); this.markDirty(bx0, by0, bx1, by1); }
  }

  // Bresenham from (x0, y0) to (x1, y1), calling fn at every pixel (both ends included).
  static line(x0, y0, x1, y1, fn) {
    const dx = Math.abs(x1 - x0), dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      fn(x0, y0);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) { err += dy; x0 += sx; }
      if (e2 <= dx) { err += dx; y0 += sy; }
    }
  }

  strokeSegment(a, b, size, value) {
    LabelMap.line(a[0], a[1], b[0], b[1], (x, y) => this.stamp(x, y, size, value));
  }

  // --- superpixel brush ------------------------------------------------------------------------
  setSuperpixels(ids) { // Int32Array of superpixel ids per pixel -> pixel lists per superpixel
    let max = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] > max) max = ids[i];
    if (max >= ids.length) { // sparse ids: renumber them densely
      const dense = new Map();
      for (let i = 0; i < ids.length; i++) {
        let d = dense.get(ids[i]);
        if (d === undefined) { d = dense.size; dense.set(ids[i], d); }
        ids[i] = d;
      }
      max = dense.size - 1;
    }
    const k = max + 1, count = new Int32Array(k + 1);
    for (let i = 0; i < ids.length; i++) count[ids[i] + 1]++;
    for (let s = 1; s <= k; s++) count[s] += count[s - 1];
    const start = count.slice(), order = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) order[start[ids[i]]++] = i;
    const box = new Int32Array(k * 4);
    for (let s = 0; s < k; s++) { box[s * 4] = this.w; box[s * 4 + 1] = this.h; box[s * 4 + 2] = 0; box[s * 4 + 3] = 0; }
    for (let i = 0; i < ids.length; i++) {
      const s = ids[i] * 4, x = i % this.w, y = (i - x) / this.w;
      if (x < box[s]) box[s] = x; if (y < box[s + 1]) box[s + 1] = y;
      if (x + 1 > box[s + 2]) box[s + 2] = x + 1; if (y + 1 > box[s + 3]) box[s + 3] = y + 1;
    }
    this.sp = { ids, offsets: count, order, box, done: new Uint32Array(k) };
  }

  superpixelStamp(X, Y, size, value) {
    const sp = this.sp, r2 = (size * size) / 4, R = Math.floor(size / 2);
    const y0 = Math.max(this.ry0, Y - R), y1 = Math.min(this.ry1 - 1, Y + R);
    for (let y = y0; y <= y1; y++) {
      const dy = y - Y, hw = Math.floor(Math.sqrt(r2 - dy * dy));
      const xa = Math.max(this.rx0, X - hw), xb = Math.min(this.rx1 - 1, X + hw);
      for (let x = xa; x <= xb; x++) {
        const s = sp.ids[y * this.w + x];
        if (sp.done[s] === this.serial) continue;
        sp.done[s] = this.serial;
        for (let k = sp.offsets[s]; k < sp.offsets[s + 1]; k++) {
          const i = sp.order[k], px = i % this.w, py = (i - px) / this.w;
          if (this.inRegion(px, py)) this.set(i, value, 0);
        }
        const b = sp.box.subarray(s * 4, s * 4 + 4);
        const bx0 = Math.max(this.rx0, b[0]), by0 = Math.max(this.ry0, b[1]);
        const bx1 = Math.min(this.rx1, b[2]), by1 = Math.min(this.ry1, b[3]);
        if (bx0 < bx1 && by0 < by1) { this.action.grow(bx0, by0, bx1, by1); this.markDirty(bx0, by0, bx1, by1); }
      }
    }
  }

  superpixelSegment(a, b, size, value) {
    LabelMap.line(a[0], a[1], b[0], b[1], (x, y) => this.superpixelStamp(x, y, size, value));
  }

  // --- flood fill --------------------------------------------------------------------------------
  fill(X, Y, value) {
    if (!this.inRegion(X, Y)) return;
    const w = this.w, labels = this.labels, target = labels[Y * w + X];
    if (target === value) return;
    const stack = [X, Y];
    let minX = X, maxX = X, minY = Y, maxY = Y;
    while (stack.length) {
      const y = stack.pop(), x = stack.pop();
      if (labels[y * w + x] !== target) continue;
      let xa = x, xb = x;
      while (xa - 1 >= this.rx0 && labels[y * w + xa - 1] === target) xa--;
      while (xb + 1 < this.rx1 && labels[y * w + xb + 1] === target) xb++;
      for (let i = xa; i <= xb; i++) this.set(y * w + i, value, 0);
      if (xa < minX) minX = xa; if (xb > maxX) maxX = xb; if (y < minY) minY = y; if (y > maxY) maxY = y;
      for (const ny of [y - 1, y + 1]) {
        if (ny < this.ry0 || ny >= this.ry1) continue;
        let inRun = false;
        for (let i = xa; i <= xb; i++) {
          const hit = labels[ny * w + i] === target;
          if (hit && !inRun) stack.push(i, ny);
          inRun = hit;
        }
      }
    }
    this.action.grow(minX, minY, maxX + 1, maxY + 1);
    this.markDirty(minX, minY, maxX + 1, maxY + 1);
  }

  // --- polygon -----------------------------------------------------------------------------------
  // pts: [[X, Y], ...] pixel indices; the polygon runs through their centres.
  polygon(pts, value) {
    const n = pts.length;
    if (n === 0) return;
    const cx = pts.map((p) => p[0] + 0.5), cy = pts.map((p) => p[1] + 0.5);
    let minY = Infinity, maxY = -Infinity;
    for (const y of cy) { minY = Math.min(minY, y); maxY = Math.max(maxY, y); }
    const ya = Math.max(this.ry0, Math.floor(minY)), yb = Math.min(this.ry1 - 1, Math.ceil(maxY));
    let bx0 = Infinity, bx1 = -Infinity, by0 = Infinity, by1 = -Infinity;
    const xs = [];
    for (let y = ya; y <= yb; y++) {
      const yc = y + 0.5;
      xs.length = 0;
      for (let k = 0; k < n; k++) {
        const x0 = cx[k], y0 = cy[k], x1 = cx[(k + 1) % n], y1 = cy[(k + 1) % n];
        if (y0 === y1) continue;
        if ((y0 <= yc && yc < y1) || (y1 <= yc && yc < y0)) xs.push(x0 + ((yc - y0) * (x1 - x0)) / (y1 - y0));
      }
      xs.sort((p, q) => p - q);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const xa = Math.max(this.rx0, Math.ceil(xs[k] - 0.5)), xb = Math.min(this.rx1, Math.ceil(xs[k + 1] - 0.5));
        for (let x = xa; x < xb; x++) this.set(y * this.w + x, value, 0);
        if (xa < xb) { bx0 = Math.min(bx0, xa); bx1 = Math.max(bx1, xb); by0 = Math.min(by0, y); by1 = Math.max(by1, y + 1); }
      }
    }
    for (let k = 0; k < n; k++) {
      const a = pts[k], b = pts[(k + 1) % n];
      LabelMap.line(a[0], a[1], b[0], b[1], (x, y) => {
        if (!this.inRegion(x, y)) return;
        this.set(y * this.w + x, value, 0);
        bx0 = Math.min(bx0, x); bx1 = Math.max(bx1, x + 1); by0 = Math.min(by0, y); by1 = Math.max(by1, y + 1);
      });
    }
    if (bx0 < bx1) { this.action.grow(bx0, by0, bx1, by1); this.markDirty(bx0, by0, bx1, by1); }
  }

  // --- whole-region actions --------------------------------------------------------------------
  // Unlabeled pixels take the suggestion (all classes, or only `onlyClass`); painted pixels stay.
  acceptSuggestion(onlyClass = -1) {
    if (this.suggestion) this.fillUnlabeledWith(-1, onlyClass);
  }

  fillUnlabeled(value) { this.fillUnlabeledWith(value, -1); }

  // The fast path for whole-region actions: only unlabeled pixels change, each once, so the old
  // value is known (unlabeled, not from the suggestion) and no per-pixel bookkeeping is needed.
  // Must be the only write of its action. value >= 0: that class; else the suggestion's class
  // (only `onlyClass` when >= 0), marked as accepted.
  fillUnlabeledWith(value, onlyClass) {
    const { labels, fromSug, px, lut, action, suggestion: sug, numClasses } = this;
    const s = value >= 0 ? 0 : 1;
    let room = 0;
    for (let y = this.ry0; y < this.ry1; y++) {
      for (let i = y * this.w + this.rx0, end = y * this.w + this.rx1; i < end; i++) room += labels[i] === UNLABELED;
    }
    action.reserve(room);
    const idx = action.idx, val = action.val;
    let n = action.n;
    for (let y = this.ry0; y < this.ry1; y++) {
      for (let i = y * this.w + this.rx0, end = y * this.w + this.rx1; i < end; i++) {
        if (labels[i] !== UNLABELED) continue;
        let v = value;
        if (v < 0) {
          v = sug[i];
          if (v >= numClasses || (onlyClass >= 0 && v !== onlyClass)) continue;
        }
        idx[n] = i; val[n] = UNLABELED; n++;
        labels[i] = v; fromSug[i] = s; px[i] = lut[v];
      }
    }
    const added = n - action.n;
    action.n = n;
    this.labeled += added;
    this.suggested += s * added;
    action.grow(this.rx0, this.ry0, this.rx1, this.ry1);
    this.markDirty(this.rx0, this.ry0, this.rx1, this.ry1);
  }

  // Replace everything (a restored draft); history starts afresh.
  load(labels, fromSug) {
    this.labels.set(labels);
    if (fromSug) this.fromSug.set(fromSug); else this.fromSug.fill(0);
    this.labeled = 0; this.suggested = 0;
    for (let i = 0; i < this.n; i++) {
      const v = this.labels[i];
      if (v !== UNLABELED && v >= this.numClasses) { this.labels[i] = UNLABELED; this.fromSug[i] = 0; }
      this.px[i] = this.lut[this.labels[i]];
      if (this.labels[i] !== UNLABELED) { this.labeled++; this.suggested += this.fromSug[i]; }
      else this.fromSug[i] = 0;
    }
    this.undoStack = []; this.redoStack = []; this.cells = 0;
    this.markDirty(0, 0, this.w, this.h);
  }
}
