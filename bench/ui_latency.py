"""Labeling-page latency in a real browser (a script, not a test):

    .venv/bin/python bench/ui_latency.py [--tasks 30] [--stroke-size 2048] [--brush 24]

1. "Next" -> image and suggestion on screen, over ~30 tasks of 1024x1024 charts with a trained model's
   suggestions (the demo's own loop, tiny training): p50 / p95 of the page's
   `labelwise:next-to-visible` measure (performance.mark at the request, at the first frame after
   the image and suggestion are drawn; #workspace[data-ready=true] at the same moment).
2. A scripted brush stroke on a 2048x2048 image: requestAnimationFrame intervals during the stroke
   (p50 / p95 / max) and PerformanceObserver 'longtask' entries over 50 ms.

Everything runs in a throwaway data directory with SQLite and the in-process worker. The last line
printed is JSON: {"next_to_visible_p95_ms", "stroke_frame_p95_ms", "long_tasks_over_50ms", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("LABELWISE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def configure(data_dir: Path) -> None:
    """Settings must be in the environment before anything from app is imported."""
    os.environ["LABELWISE_DATA_DIR"] = str(data_dir)
    for key in ("LABELWISE_DATABASE_URL", "LABELWISE_BROKER_URL", "LABELWISE_RESULT_BACKEND_URL"):
        os.environ.pop(key, None)
    os.environ.update({
        "LABELWISE_SECRET_KEY": "bench-secret",
        "LABELWISE_TRAIN_STEPS": os.environ.get("LABELWISE_TRAIN_STEPS", "8"),
        "LABELWISE_TRAIN_CROP": "128",
        "LABELWISE_TRAIN_MAX_SECONDS": "60",
        "LABELWISE_UNET_BASE_CHANNELS": "8",
        "LABELWISE_SCORE_CHUNK_SIZE": "8",
    })
    sys.path.insert(0, str(ROOT))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def seed_suggestion_project(tasks: int, echo) -> int:  # type: ignore[no-untyped-def]
    from app import demo

    cfg = demo.DemoConfig(pool_images=tasks + 2, validation_images=2, size=1024, seed_labels=2, retrain_every=10_000,
                          timeout=900)
    return demo.prepare_for_serving(cfg, echo=echo)


def seed_fake_ranked_project(name: str, images: list, seed: int = 1) -> int:  # type: ignore[type-arg]
    """A project of these images with a synthetic ranked model version (suggestion PNGs where scoring
    writes them), labeled by the demo annotator: no training needed."""
    import numpy as np
    from sqlalchemy import select

    from app import demo, imaging, storage
    from app.auth import service as auth_service
    from app.db import session_scope
    from app.flows import uploads
    from app.items.models import Split
    from app.learning.welllog import CLASSES
    from app.modeling import suggestions
    from app.modeling.models import ModelStatus, ModelVersion, Score, ScoringRun, ScoringRunStatus
    from app.projects import service as project_service
    from app.queue.models import Task

    demo.ensure_users()
    with session_scope() as session:
        lead = auth_service.get_by_username(session=session, username="lead")
        annotator = auth_service.get_by_username(session=session, username="annotator")
        assert lead is not None and annotator is not None
        project = project_service.create(session=session, name=name, classes=CLASSES, creator=lead,
                                         retrain_every=10_000)
        project_service.add_member(session=session, project=project, user=annotator)
        mv = ModelVersion(project_id=project.id, version=1, status=ModelStatus.ready, metrics={})
        session.add(mv)
        session.flush()
        for i, img in enumerate(images):
            item = uploads.add_image(session=session, project=project, filename=f"{name}{i}.png", pixels=img,
                                           split=Split.pool, user=lead)
            h, w = img.shape[:2]
            yy, xx = np.mgrid[0:h, 0:w]
            sug = ((xx // 64 + yy // 64 + i) % 3).astype(np.uint8)
            unsure = ((xx * 255) // w).astype(np.uint8)
            for kind, pixels in (("mask", sug), ("uncertainty", unsure)):
                rel = suggestions.suggestion_path(project.id, mv.id, item.id, kind)
                storage.write_atomic(rel, imaging.encode_png(pixels))
        tasks = session.scalars(select(Task).where(Task.project_id == project.id).order_by(Task.id)).all()
        for rank, task in enumerate(tasks, start=1):
            session.add(Score(task_id=task.id, model_version_id=mv.id, value=1.0 / rank, strategy="entropy",
                              components={}, rank=rank))
        session.add(ScoringRun(project_id=project.id, model_version_id=mv.id, chunks_total=1, chunks_done=1,
                               tasks_total=len(tasks), status=ScoringRunStatus.ranked))
        return project.id


def gradient_image(size: int):  # type: ignore[no-untyped-def]
    import numpy as np

    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:size, 0:size]
    img = np.stack([(xx * 255 // size), (yy * 255 // size), ((xx + yy) * 127 // size)], -1).astype(np.uint8)
    return np.clip(img.astype(np.int16) + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)


def serve() -> tuple[str, object]:
    import uvicorn

    from app.main import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise SystemExit("the server did not start")
    return f"http://127.0.0.1:{port}", server


LAST_MEASURE = r"""() => {
  const last = (n) => { const e = performance.getEntriesByName(n); return e.length ? e[e.length - 1].startTime : NaN; };
  const t0 = last('labelwise:next');
  const marks = ['labelwise:task', 'labelwise:loaded', 'labelwise:drawn', 'labelwise:visible'].map((n) => last(n) - t0);
  const res = performance.getEntriesByType('resource').filter((e) => e.startTime >= t0 - 1);
  const span = (re) => { const e = res.find((x) => re.test(x.name)); return e ? [e.startTime - t0, e.responseEnd - t0,
    e.transferSize] : null; };
  return { marks, next: span(/tasks\/next/), image: span(/\/image$/), suggestion: span(/suggestion\/mask/) };
}"""

STROKE_PROBE = """() => {
  window.__bench = { frames: [], longtasks: [], running: true, t0: performance.now() };
  const b = window.__bench;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push([e.duration, e.startTime - b.t0]);
    }).observe({ type: 'longtask', buffered: false });
  } catch (e) { b.noLongtask = String(e); }
  const tick = (t) => { if (!b.running) return; b.frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""


def measure_next(page, base: str, pid: int, tasks: int, echo) -> list[float]:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/projects/{pid}/label")
    page.wait_for_selector("#workspace[data-ready=true]")
    times, phases = [], []
    for i in range(tasks):
        if not page.evaluate("window.labelwise.state.map && window.labelwise.state.map.suggestion !== null"):
            raise SystemExit(f"task {page.get_attribute('#workspace', 'data-task-id')} has no suggestion")
        current = page.get_attribute("#workspace", "data-task-id")
        page.keyboard.press("a")  # accept the suggestion, submit: the page asks for the next task
        page.keyboard.press("Enter")
        page.wait_for_function(
            f"(d => d.taskId !== '{current}' && (d.ready === 'true' || d.ready === 'empty'))"
            "(document.getElementById('workspace').dataset)", timeout=60_000)
        if page.get_attribute("#workspace", "data-ready") == "empty":
            echo(f"[next] the queue ran out after {i + 1} submits")
            break
        m = page.evaluate(LAST_MEASURE)
        times.append(float(m["marks"][-1]))
        phases.append(m["marks"])
        if os.environ.get("BENCH_VERBOSE"):
            echo(f"  {m}")
    if phases:  # where the time goes: task JSON, image + suggestion fetched and decoded, drawn, on screen
        cols = list(zip(*phases, strict=True))
        echo("[next] phases (median ms from the request): " + ", ".join(
            f"{name} {statistics.median(c):.1f}" for name, c in zip(("task JSON", "fetched+decoded", "drawn",
                                                                      "visible"), cols, strict=True)))
    return times


def measure_stroke(page, base: str, pid: int, brush: int) -> dict:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/projects/{pid}/label")
    page.wait_for_selector("#workspace[data-ready=true]")
    page.wait_for_selector("#workspace[data-confidence=ready]")
    page.fill("#brush-size", str(brush))
    page.dispatch_event("#brush-size", "input")
    page.keyboard.press("1")
    box = page.locator("#label-layer").bounding_box()
    x0, y0 = box["x"] + 20, box["y"] + 20
    w, h = box["width"] - 40, box["height"] - 40
    page.wait_for_timeout(500)  # settle: decoding and first paints are not the stroke's
    page.evaluate(STROKE_PROBE)
    page.mouse.move(x0, y0)
    page.mouse.down()
    steps = 240
    t0 = time.perf_counter()
    for i in range(1, steps + 1):  # a zigzag over the whole image
        t = i / steps
        page.mouse.move(x0 + w * t, y0 + h * (0.5 + 0.45 * ((i // 30) % 2 * 2 - 1) * ((i % 30) / 30)))
    page.mouse.up()
    stroke_s = time.perf_counter() - t0
    page.wait_for_timeout(1600)  # and the autosave that follows a second later
    result = page.evaluate("() => { const b = window.__bench; b.running = false; return b; }")
    frames = result["frames"]
    result["longtasks"], starts = [d for d, _ in result["longtasks"]], [round(t) for _, t in result["longtasks"]]
    if starts:
        print(f"[stroke] long tasks start at {starts} ms after the stroke began "
              f"(stroke {round((time.perf_counter() - t0) * 1000)} ms incl. settling)", flush=True)
    deltas = [b - a for a, b in zip(frames, frames[1:], strict=False)]
    labeled = page.evaluate("window.labelwise.state.map.labeled")
    # Whole-region actions at this size (one-off, on a key): accept the suggestion, undo it.
    timed = """(init) => { const t = performance.now();
      document.dispatchEvent(new KeyboardEvent('keydown', Object.assign({ bubbles: true }, init)));
      return performance.now() - t; }"""
    accept_ms = page.evaluate(timed, {"key": "a"})
    undo_ms = page.evaluate(timed, {"key": "z", "ctrlKey": True})
    return {"accept_ms": accept_ms, "undo_ms": undo_ms, "deltas": deltas, "longtasks": result["longtasks"],
            "stroke_s": stroke_s, "labeled": labeled, "no_longtask_api": result.get("noLongtask")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=30)
    ap.add_argument("--cold", type=int, default=10, help="tasks measured again with the look-ahead off")
    ap.add_argument("--stroke-size", type=int, default=2048)
    ap.add_argument("--brush", type=int, default=24)
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    ap.add_argument("--fake-model", action="store_true",
                    help="synthetic suggestions instead of training the demo's model (a faster set-up)")
    args = ap.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="labelwise-bench-"))
    configure(data_dir)
    echo = lambda line: print(line, flush=True)  # noqa: E731
    try:
        from app.migrate import upgrade_head

        upgrade_head()
        t = time.perf_counter()
        if args.fake_model:
            from app.learning.welllog import generate_dataset

            charts = [c for c, _ in generate_dataset(args.tasks + args.cold + 1, seed=7, size=1024)]
            pid = seed_fake_ranked_project("charts", charts)
            what = "with synthetic suggestions"
        else:
            pid = seed_suggestion_project(args.tasks + args.cold, echo)
            what = "trained, scored and ranked"
        big = seed_fake_ranked_project("big", [gradient_image(args.stroke_size)])
        n, size = args.tasks + args.cold + 1, args.stroke_size
        echo(f"[setup] {n}+ charts of 1024x1024 {what}; one {size}x{size} image with a synthetic suggestion; "
             f"{time.perf_counter() - t:.1f} s")
        base, server = serve()
        echo(f"[machine] {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other processes slow the "
             "browser down: compare runs on a quiet machine)")

        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            # bypass_csp: Playwright evaluates its wait predicates as strings, which the CSP forbids.
            context = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "annotator")
            page.fill("input[name=password]", "annotator-demo")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")

            next_ms = measure_next(page, base, pid, args.tasks, echo)
            echo(f"[next] {len(next_ms)} tasks: p50 {pct(next_ms, 50):.1f} ms, p95 {pct(next_ms, 95):.1f} ms, "
                 f"max {max(next_ms):.1f} ms (the page looks ahead to the queue's next task)")
            cold_ms: list[float] = []
            if args.cold:  # the same without the look-ahead: a first task, or a wrong guess
                page.evaluate("localStorage.setItem('labelwise:prefetch', 'off')")
                cold_ms = measure_next(page, base, pid, args.cold, echo)
                page.evaluate("localStorage.removeItem('labelwise:prefetch')")
                echo(f"[next] cold, no look-ahead, {len(cold_ms)} tasks: p50 {pct(cold_ms, 50):.1f} ms, "
                     f"p95 {pct(cold_ms, 95):.1f} ms, max {max(cold_ms):.1f} ms")
            stroke = measure_stroke(page, base, big, args.brush)
            d = stroke["deltas"]
            long_tasks = [x for x in stroke["longtasks"] if x > 50]
            echo(f"[stroke] {args.stroke_size}x{args.stroke_size}, brush {args.brush}: {len(d)} frames in "
                 f"{stroke['stroke_s']:.2f} s; frame p50 {pct(d, 50):.1f} ms, p95 {pct(d, 95):.1f} ms, "
                 f"max {max(d) if d else float('nan'):.1f} ms; long tasks > 50 ms: {len(long_tasks)} "
                 f"{[round(x) for x in long_tasks]}; {stroke['labeled']} pixels painted")
            echo(f"[stroke] accept the whole suggestion on {args.stroke_size}x{args.stroke_size}: "
                 f"{stroke['accept_ms']:.0f} ms; undo it: {stroke['undo_ms']:.0f} ms")
            if stroke["no_longtask_api"]:
                echo(f"[stroke] no longtask observer: {stroke['no_longtask_api']}")
            browser.close()
        server.should_exit = True  # type: ignore[attr-defined]
        print(json.dumps({
            "next_to_visible_p95_ms": round(pct(next_ms, 95), 1),
            "next_to_visible_p50_ms": round(pct(next_ms, 50), 1),
            "next_to_visible_cold_p95_ms": round(pct(cold_ms, 95), 1) if cold_ms else None,
            "stroke_frame_p95_ms": round(pct(d, 95), 1),
            "stroke_frame_p50_ms": round(pct(d, 50), 1),
            "long_tasks_over_50ms": len(long_tasks),
        }))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
