// The label map, with undo/redo as per-action diffs and the whole-region actions (accept the
// suggestion, rest is background); the drawing tools that write it are in raster.js.
//
// labels[i]  class id of pixel i = y * width + x (255 = unlabeled); this is what gets submitted.
// fromSug[i] 1 when the pixel's label was taken from the model's suggestion (accept), 0 when painted.
// rgba       the label colours at image resolution; only dirty rectangles are rewritten and shown.

import { superpixelIndex } from "./raster.js";

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
  // The current action wrote inside [x0, x1) x [y0, y1): its undo box grows, and the box is redrawn.
  touched(x0, y0, x1, y1) {
    if (x0 >= x1 || y0 >= y1) return;
    this.action.grow(x0, y0, x1, y1);
    this.markDirty(x0, y0, x1, y1);
  }

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

  // Superpixel ids per pixel (Int32Array, renumbered in place when sparse) for the superpixel brush.
  setSuperpixels(ids) { this.sp = superpixelIndex(ids, this.w, this.h); }

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
    this.touched(this.rx0, this.ry0, this.rx1, this.ry1);
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
