// Decodes PNGs and builds whole-image layers off the main thread, so painting never stutters.
import { runOp, transferables } from "./decode.js";

self.onmessage = async (ev) => {
  const { id, op, source, params } = ev.data;
  try {
    const result = await runOp(op, source, params);
    self.postMessage({ id, result }, transferables(result));
  } catch (e) {
    self.postMessage({ id, error: String(e && e.message ? e.message : e) });
  }
};
