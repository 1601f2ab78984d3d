// How the tools write a LabelMap (labelmap.js): brush, eraser, superpixel brush, fill and polygon.
// Every function takes the map as `m`, writes through m.set() inside the action m.begin() started,
// and only inside the task's region.
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

// Bresenham from (x0, y0) to (x1, y1), calling fn at every pixel (both ends included).
export function line(x0, y0, x1, y1, fn) {
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

// The rows of a disk of size `size` centred on pixel (X, Y), clipped to the region: fn(y, xa, xb)
// for the pixels xa..xb (inclusive) of row y.
function diskRows(m, X, Y, size, fn) {
  const r2 = (size * size) / 4, R = Math.floor(size / 2);
  const y0 = Math.max(m.ry0, Y - R), y1 = Math.min(m.ry1 - 1, Y + R);
  for (let y = y0; y <= y1; y++) {
    const dy = y - Y, hw = Math.floor(Math.sqrt(r2 - dy * dy));
    fn(y, Math.max(m.rx0, X - hw), Math.min(m.rx1 - 1, X + hw));
  }
}

// --- brush, eraser ---------------------------------------------------------------------------
// Stamp a disk of size `size` centred on pixel (X, Y); value 255 erases.
function stamp(m, X, Y, size, value) {
  diskRows(m, X, Y, size, (y, xa, xb) => {
    for (let i = y * m.w + xa, end = y * m.w + xb; i <= end; i++) m.set(i, value, 0);
  });
  const R = Math.floor(size / 2);
  m.touched(Math.max(m.rx0, X - R), Math.max(m.ry0, Y - R), Math.min(m.rx1, X + R + 1), Math.min(m.ry1, Y + R + 1));
}

export function strokeSegment(m, a, b, size, value) {
  line(a[0], a[1], b[0], b[1], (x, y) => stamp(m, x, y, size, value));
}

// --- superpixel brush ------------------------------------------------------------------------
// Int32Array of superpixel ids per pixel -> pixel lists and bounding boxes per superpixel.
export function superpixelIndex(ids, w, h) {
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
  for (let s = 0; s < k; s++) { box[s * 4] = w; box[s * 4 + 1] = h; box[s * 4 + 2] = 0; box[s * 4 + 3] = 0; }
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i] * 4, x = i % w, y = (i - x) / w;
    if (x < box[s]) box[s] = x; if (y < box[s + 1]) box[s + 1] = y;
    if (x + 1 > box[s + 2]) box[s + 2] = x + 1; if (y + 1 > box[s + 3]) box[s + 3] = y + 1;
  }
  return { ids, offsets: count, order, box, done: new Uint32Array(k) };
}

function superpixelStamp(m, X, Y, size, value) {
  const sp = m.sp;
  diskRows(m, X, Y, size, (y, xa, xb) => {
    for (let x = xa; x <= xb; x++) {
      const s = sp.ids[y * m.w + x];
      if (sp.done[s] === m.serial) continue;
      sp.done[s] = m.serial;
      for (let k = sp.offsets[s]; k < sp.offsets[s + 1]; k++) {
        const i = sp.order[k], px = i % m.w, py = (i - px) / m.w;
        if (m.inRegion(px, py)) m.set(i, value, 0);
      }
      const b = sp.box.subarray(s * 4, s * 4 + 4);
      m.touched(Math.max(m.rx0, b[0]), Math.max(m.ry0, b[1]), Math.min(m.rx1, b[2]), Math.min(m.ry1, b[3]));
    }
  });
}

export function superpixelSegment(m, a, b, size, value) {
  line(a[0], a[1], b[0], b[1], (x, y) => superpixelStamp(m, x, y, size, value));
}

// --- flood fill --------------------------------------------------------------------------------
export function fill(m, X, Y, value) {
  if (!m.inRegion(X, Y)) return;
  const w = m.w, labels = m.labels, target = labels[Y * w + X];
  if (target === value) return;
  const stack = [X, Y];
  let minX = X, maxX = X, minY = Y, maxY = Y;
  while (stack.length) {
    const y = stack.pop(), x = stack.pop();
    if (labels[y * w + x] !== target) continue;
    let xa = x, xb = x;
    while (xa - 1 >= m.rx0 && labels[y * w + xa - 1] === target) xa--;
    while (xb + 1 < m.rx1 && labels[y * w + xb + 1] === target) xb++;
    for (let i = xa; i <= xb; i++) m.set(y * w + i, value, 0);
    if (xa < minX) minX = xa; if (xb > maxX) maxX = xb; if (y < minY) minY = y; if (y > maxY) maxY = y;
    for (const ny of [y - 1, y + 1]) {
      if (ny < m.ry0 || ny >= m.ry1) continue;
      let inRun = false;
      for (let i = xa; i <= xb; i++) {
        const hit = labels[ny * w + i] === target;
        if (hit && !inRun) stack.push(i, ny);
        inRun = hit;
      }
    }
  }
  m.touched(minX, minY, maxX + 1, maxY + 1);
}

// --- polygon -----------------------------------------------------------------------------------
// pts: [[X, Y], ...] pixel indices; the polygon runs through their centres.
export function polygon(m, pts, value) {
  const n = pts.length;
  if (n === 0) return;
  const cx = pts.map((p) => p[0] + 0.5), cy = pts.map((p) => p[1] + 0.5);
  let minY = Infinity, maxY = -Infinity;
  for (const y of cy) { minY = Math.min(minY, y); maxY = Math.max(maxY, y); }
  const ya = Math.max(m.ry0, Math.floor(minY)), yb = Math.min(m.ry1 - 1, Math.ceil(maxY));
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
      const xa = Math.max(m.rx0, Math.ceil(xs[k] - 0.5)), xb = Math.min(m.rx1, Math.ceil(xs[k + 1] - 0.5));
      for (let x = xa; x < xb; x++) m.set(y * m.w + x, value, 0);
      if (xa < xb) { bx0 = Math.min(bx0, xa); bx1 = Math.max(bx1, xb); by0 = Math.min(by0, y); by1 = Math.max(by1, y + 1); }
    }
  }
  for (let k = 0; k < n; k++) {
    const a = pts[k], b = pts[(k + 1) % n];
    line(a[0], a[1], b[0], b[1], (x, y) => {
      if (!m.inRegion(x, y)) return;
      m.set(y * m.w + x, value, 0);
      bx0 = Math.min(bx0, x); bx1 = Math.max(bx1, x + 1); by0 = Math.min(by0, y); by1 = Math.max(by1, y + 1);
    });
  }
  if (bx0 < bx1) m.touched(bx0, by0, bx1, by1);
}
