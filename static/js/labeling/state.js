// The page's state, in one place. Other modules read it through `state` (read-only: a write throws)
// and change it only through the named transitions below, so every change has a name to search for.

const IDLE_MS = 30000; // a gap between inputs longer than this is idle, not time on task

const s = {
  task: null, map: null, token: null, seq: 0, suggestionModel: null, sugAutoHidden: false,
  classId: 0, tool: "brush", size: 4,
  stroke: null, pan: null, space: false, polygon: null,
  activeMs: 0, lastInput: 0,
  submitting: false, spTask: null, skipped: new Set(),
  doubt: null, // the task's uncertainty map: { map, values, areas, at } (see overlay.js)
};

export const state = new Proxy(s, {
  set(_, key) { throw new TypeError(`state.${String(key)}: change it through a transition in state.js`); },
  deleteProperty(_, key) { throw new TypeError(`state.${String(key)} cannot be deleted`); },
});

// --- the task on screen ----------------------------------------------------------------------------
// A request for the next task; answers to older requests are stale once this returns.
export function nextRequested() { return ++s.seq; }
export const isLatest = (seq) => seq === s.seq;

export function taskCleared() {
  s.task = null; s.map = null; s.polygon = null; s.stroke = null; s.doubt = null;
}

// The uncertainty map of the task on screen (grey levels 0-255) and its areas of most doubt.
export function doubtLoaded(map, values, areas) { s.doubt = { map, values, areas, at: -1 }; }
export function doubtAreasFound(areas) { if (s.doubt) { s.doubt.areas = areas; s.doubt.at = -1; } }
// The next area of most doubt, round and round; null when there is none.
export function doubtStepped() {
  const d = s.doubt;
  if (!d || !d.areas.length) return null;
  d.at = (d.at + 1) % d.areas.length;
  return d.areas[d.at];
}

export function taskLoaded({ task, map, suggestionModel, token, seconds }) {
  Object.assign(s, { task, map, suggestionModel, token, polygon: null });
  s.activeMs = 1000 * seconds;
  s.lastInput = performance.now();
}

// The same task leased again after its lease ran out (a fresh task record, same pixels).
export function taskRetaken(task) { s.task = task; }

// Skipped tasks are not guessed as the next one.
export function taskSkipped(taskId) { s.skipped.add(taskId); }

export function superpixelsRequested(taskId) { s.spTask = taskId; }
export function superpixelsSettled() { s.spTask = null; }

// Accept all hides the suggestion for the rest of the task; the next task shows it again.
export function suggestionAutoHidden(on) { s.sugAutoHidden = on; }

// --- submit ---------------------------------------------------------------------------------------
export function submitStarted() { s.submitting = true; }
export function submitDone() { s.submitting = false; }

// --- active time: gaps between inputs (pointer, keys, wheel) count when shorter than IDLE_MS ------
export function inputSeen(now = performance.now()) {
  if (s.task && s.lastInput && now - s.lastInput < IDLE_MS) s.activeMs += now - s.lastInput;
  s.lastInput = now;
}
export const activeSeconds = () => (s.activeMs / 1000).toFixed(2);

// --- tools ----------------------------------------------------------------------------------------
export function classSelected(id) { s.classId = id; }
export function toolSelected(tool) { s.tool = tool; }
export function sizeSet(n) { s.size = n; }
export function spaceHeld(on) { s.space = on; }

// A brush, eraser or superpixel stroke: `value` is the class id painted (255 erases).
export function strokeStarted(p, value) { s.stroke = { last: p, value, started: false }; }
export function strokeMoved(p) { s.stroke.last = p; s.stroke.started = true; }
export function strokeEnded() { const had = s.stroke !== null; s.stroke = null; return had; }

export function panStarted(x, y) { s.pan = { x, y }; }
// Returns how far the pointer moved since the last call.
export function panMoved(x, y) {
  const d = [x - s.pan.x, y - s.pan.y];
  s.pan.x = x; s.pan.y = y;
  return d;
}
export function panEnded() { const had = s.pan !== null; s.pan = null; return had; }

// Polygon vertices (pixel indices) so far; a repeat of the last vertex is not added.
export function polygonVertexAdded(p) {
  const pts = s.polygon || (s.polygon = []);
  const last = pts[pts.length - 1];
  if (!last || last[0] !== p[0] || last[1] !== p[1]) pts.push(p);
  return pts;
}
export function polygonVertexDropped() { s.polygon.pop(); return s.polygon; }
// The polygon ends (closed or cancelled): its vertices, or null when none was open.
export function polygonTaken() { const pts = s.polygon; s.polygon = null; return pts; }
