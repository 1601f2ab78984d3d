"""Simulated annotators over the public HTTP API, and a uvicorn server process to point them at.

Shared by `bench/load.py` (latency figures) and `tests/queue/test_soak.py` (invariants under a crash).
Each annotator logs in once with its own password, then loops next -> submit until the queue is empty,
its cycle budget is spent or the deadline passes. A submit whose answer was lost (connection error,
503) is sent again with the same client_token, so a server killed mid-request can be restarted under
the annotators and they carry on.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TRANSIENT = (httpx.TransportError,)  # connect refused/reset, read errors: the server may be restarting


def mask_png(width: int, height: int, value: int = 0) -> bytes:
    """A PNG mask of one class id (8-bit grey), the size of a task."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (width, height), value).save(buf, format="PNG")
    return buf.getvalue()


REDIS_OWNER_KEY = "labelwise-test-owner"


@contextmanager
def claimed_redis_database(base_url: str, *, databases: Iterable[int] = range(1, 16),
                           ttl: int = 3600) -> Iterator[str]:
    """A Redis database no other live test or bench process holds, emptied: test runs, xdist processes and
    benches that overlap on one machine must not take each other's jobs. Claimed with an owner key (this
    process's pid, expiring after `ttl` s), tried in the order of `databases`; the owner key is dropped
    after. LookupError when every one is held."""
    import redis

    base, me = base_url.rsplit("/", 1)[0], str(os.getpid())
    for db in databases:
        url = f"{base}/{db}"
        client = redis.Redis.from_url(url)
        owner = client.get(REDIS_OWNER_KEY)
        if owner is not None and owner.decode() != me and _alive(int(owner)):
            continue
        client.flushdb()
        client.set(REDIS_OWNER_KEY, me, ex=ttl)
        try:
            yield url
        finally:
            client.delete(REDIS_OWNER_KEY)
        return
    raise LookupError("every Redis database is held by another live process")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Ack:
    user: str
    task_id: int
    annotation_id: int
    client_token: str
    status: int


@dataclass
class Tally:
    """What the annotators saw: latencies (ms), hand-outs, acknowledged submits, errors by kind."""

    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    handed: dict[int, set[str]] = field(default_factory=dict)  # task id -> users it was handed to
    acks: list[Ack] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    cycles: int = 0
    empty: int = 0  # annotators that found the queue empty


async def annotator(
    *, base_url: str, username: str, password: str, project_id: int, mask: bytes, tally: Tally, deadline: float,
    max_cycles: int | None = None, retry_pause: float = 0.2, stop: asyncio.Event | None = None,
    logged_in: Callable[[], Awaitable[float]] | None = None, think_s: float = 0.0,
) -> None:
    """One annotator: log in once, then next -> submit until the queue is empty, `max_cycles`, `deadline`
    (time.monotonic()) or `stop`. `logged_in`, when given, is awaited after the login and returns the
    deadline to use from then on (a benchmark's clock starts once everyone has logged in). Transport
    errors and 503s are retried (the same submit key for a submit)
    until the deadline; other failures are counted in `tally.errors` and end this annotator. `think_s`: the
    mean pause after each submit (an annotator painting), none by default (a closed loop). The pauses are
    drawn from an exponential distribution (seeded by the user name) and the first request waits a uniform
    share of one, so annotators do not move in lockstep: 50 equal pauses would send 50 requests at once
    every `think_s`, a burst no group of people makes."""
    api = f"/api/v1/projects/{project_id}"
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:

        async def call(method: str, url: str, **kw: object) -> httpx.Response | None:
            """The response, or None once the deadline passes; retries what a restart or a busy
            database explains."""
            while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
                try:
                    r = await client.request(method, url, **kw)  # type: ignore[arg-type]
                except TRANSIENT as exc:
                    tally.errors[f"{method} {url.rsplit('/', 1)[-1]}: {type(exc).__name__}"] += 1
                    await asyncio.sleep(retry_pause)
                    continue
                if r.status_code == 503:
                    tally.errors[f"{method} {url.rsplit('/', 1)[-1]}: 503"] += 1
                    await asyncio.sleep(retry_pause)
                    continue
                return r
            return None

        r = await call("POST", "/api/v1/auth/login", json={"username": username, "password": password})
        if r is None or r.status_code != 200:
            tally.errors[f"login {None if r is None else r.status_code}"] += 1
            return
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        if logged_in is not None:
            deadline = await logged_in()
        pauses = random.Random(username)
        if think_s > 0:
            await asyncio.sleep(pauses.uniform(0, think_s))
        cycles = 0
        while max_cycles is None or cycles < max_cycles:
            if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                return
            t0 = time.perf_counter()
            r = await call("POST", f"{api}/tasks/next")
            if r is None:
                return
            if r.status_code == 404:
                tally.empty += 1
                return
            if r.status_code != 200:
                tally.errors[f"next {r.status_code}: {r.text[:120]}"] += 1
                return
            tally.next_ms.append((time.perf_counter() - t0) * 1000)
            task_id = int(r.json()["id"])
            tally.handed.setdefault(task_id, set()).add(username)
            token = uuid.uuid4().hex
            t0 = time.perf_counter()
            r = await call("POST", f"{api}/tasks/{task_id}/annotations",
                           files={"mask": ("mask.png", mask, "image/png")}, data={"client_token": token})
            if r is None:
                return
            if r.status_code not in (200, 201):
                tally.errors[f"submit {r.status_code}: {r.text[:120]}"] += 1
                return
            tally.submit_ms.append((time.perf_counter() - t0) * 1000)
            tally.acks.append(Ack(user=username, task_id=task_id, annotation_id=int(r.json()["id"]),
                                  client_token=token, status=r.status_code))
            cycles += 1
            tally.cycles += 1
            if think_s > 0:
                await asyncio.sleep(pauses.expovariate(1 / think_s))


def server_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "LABELWISE_DATABASE_URL": database_url, "LABELWISE_DATA_DIR": str(data_dir), **extra}
    env.pop("LABELWISE_BROKER_URL", None)  # no Celery needed: nothing here queues a job
    env.setdefault("LABELWISE_SECRET_KEY", "bench-secret-key")
    return env


def start_server(env: dict[str, str], port: int, log: Path, workers: int = 1) -> subprocess.Popen[bytes]:
    """`uvicorn app.main:create_app` on 127.0.0.1:port in its own process group (so a SIGKILL takes the
    workers too); returns once it answers, or raises with its log."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            # Every worker must be up: with several, one answering is not enough, so ask a few times.
            if all(httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200 for _ in range(workers)):
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    kill_server(proc)
    raise RuntimeError(f"uvicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def kill_server(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the server's whole process group and wait for it (SIGKILL after 20 s)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
    try:  # workers left behind by a SIGKILLed master are in the same group
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextmanager
def server(env: dict[str, str], port: int, log: Path, workers: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    proc = start_server(env, port, log, workers)
    try:
        yield proc
    finally:
        kill_server(proc)
