// The review page's viewer: the item's image with the reviewed mask over it, on one canvas, cropped to
// the task's region. Reuses the labeling page's decoding (exact PNG bytes, no colour management) and
// class colours; toggles per class and an opacity slider.
import { fetchBlob, RAW, rgbaOf, channel } from "../labeling/decode.js";
import { hexToRgb, UNLABELED } from "../labeling/labelmap.js";

const canvas = document.getElementById("review-canvas");
const colors = JSON.parse(canvas.dataset.classes).map(hexToRgb);
const [rx, ry, rw, rh] = canvas.dataset.region.split(" ").map(Number);
const opacity = document.getElementById("review-opacity");
const toggles = [...document.querySelectorAll(".review-class")];
const SCALE = Math.max(1, Math.floor(640 / Math.max(rw, rh)));  // small regions are shown enlarged

let image = null, ids = null, width = 0;

function draw() {
  const ctx = canvas.getContext("2d");
  const out = ctx.createImageData(rw, rh);
  const alpha = Number(opacity.value) / 100;
  const shown = new Set(toggles.filter((t) => t.checked).map((t) => Number(t.value)));
  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < rw; x++) {
      const src = (y + ry) * width + (x + rx), dst = (y * rw + x) * 4;
      let r = image[src * 4], g = image[src * 4 + 1], b = image[src * 4 + 2];
      const c = ids[src];
      if (c !== UNLABELED && shown.has(c) && colors[c]) {
        const [cr, cg, cb] = colors[c];
        r = r * (1 - alpha) + cr * alpha; g = g * (1 - alpha) + cg * alpha; b = b * (1 - alpha) + cb * alpha;
      }
      out.data[dst] = r; out.data[dst + 1] = g; out.data[dst + 2] = b; out.data[dst + 3] = 255;
    }
  }
  const tmp = document.createElement("canvas");
  Object.assign(tmp, { width: rw, height: rh });
  tmp.getContext("2d").putImageData(out, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, rw * SCALE, rh * SCALE);
}

async function load() {
  const [img, mask] = await Promise.all([canvas.dataset.image, canvas.dataset.mask].map(
    async (url) => createImageBitmap(await fetchBlob(url), RAW)));
  width = img.width;
  image = rgbaOf(img);
  ids = channel(rgbaOf(mask), 0);
  Object.assign(canvas, { width: rw * SCALE, height: rh * SCALE });
  draw();
  canvas.dataset.ready = "true";
}

opacity.addEventListener("input", draw);
toggles.forEach((t) => t.addEventListener("change", draw));
load().catch((err) => { canvas.dataset.ready = "error"; console.error(err); });
