"""Load: N simulated annotators doing next -> submit over HTTP against uvicorn (several workers) on Postgres.

Usage: python bench/load.py [--annotators 50] [--tasks 100000] [--seconds 30] [--workers 4]
       [--database-url postgresql+psycopg://...] [--admin-url ...] [--small 1000] [--large 1000000] [--quick]
       [--think-ms 0] [--statements]

Without --database-url a throwaway database is created on the loopback Postgres of scripts/services.sh
($LABELWISE_TEST_POSTGRES_ADMIN_URL, default postgresql+psycopg://postgres@127.0.0.1:55432/postgres) and
dropped at the end. Three projects are seeded with SQL (generate_series, not the API): `--small` tasks,
`--tasks` tasks (the main run) and `--large` tasks; tiny 8x8 items whose image files do not exist (next
and submit need only the rows). The annotators log in once each, then loop next -> submit; every phase is
bounded in time and in cycles.

Printed: next-task and submit p50/p99 and cycles per second on the main project; the bare SQL lease
(the app's own lease statement, compiled, run with psycopg by N concurrent connections: SELECT ... FOR
UPDATE SKIP LOCKED, INSERT the lease, COMMIT); next-task p50 on the small and the large project;
EXPLAIN ANALYZE of the lease statement on both; where a next-task request spends its time (statements
and milliseconds per step, in-process); the targets, met or not. Last line: JSON
{"next_p50_ms", "next_p99_ms", "submit_p99_ms", "cycles_per_s", "sql_lease_p50_ms", "next_p50_ms_1k",
"next_p50_ms_1m"} (the "1k"/"1m" keys hold the small/large projects' figures whatever their sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.annotators import Tally, annotator, free_port, mask_png, server, server_env  # noqa: E402

PASSWORD = "bench-password-123"
DEFAULT_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN when there is nothing to rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    if args.database_url:
        yield args.database_url
        return
    import psycopg

    admin = args.admin_url or os.environ.get("LABELWISE_TEST_POSTGRES_ADMIN_URL") or DEFAULT_ADMIN
    name = f"lw_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from app.db import reset_engine

        reset_engine()
        with psycopg.connect(libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed_users(n: int) -> list[str]:
    from app.auth import service as auth_service
    from app.auth.models import Role
    from app.db import session_scope

    names = [f"bench{i:03d}" for i in range(n)]
    with session_scope() as session:
        auth_service.ensure_user(session=session, username="bench-lead", password=PASSWORD, role=Role.lead)
        for name in names:
            auth_service.ensure_user(session=session, username=name, password=PASSWORD, role=Role.annotator)
    return names


def seed_project(url: str, name: str, tasks: int, members: list[str]) -> int:
    """A project with `tasks` tiny items and one task each, written by two INSERT ... SELECT
    generate_series statements; returns its id."""
    import psycopg

    from app.auth import service as auth_service
    from app.db import session_scope
    from app.projects import service as project_service

    with session_scope() as session:
        lead = auth_service.get_by_username(session=session, username="bench-lead")
        assert lead is not None
        project = project_service.create(session=session, name=name, creator=lead, retrain_every=100_000,
                                         classes=[("background", "#202020"), ("curve-1", "#e6194b")])
        for member in members:
            user = auth_service.get_by_username(session=session, username=member)
            assert user is not None
            project_service.add_member(session=session, project=project, user=user)
        pid = project.id
    with psycopg.connect(libpq(url)) as conn:
        conn.execute(
            "INSERT INTO item (project_id, original_name, storage_path, width, height, checksum, split, created_at) "
            "SELECT %(p)s, 'b' || g || '.png', 'bench/missing/' || g || '.png', 8, 8, md5(%(p)s || '-' || g), "
            "'pool', now() FROM generate_series(1, %(n)s) g", {"p": pid, "n": tasks})
        conn.execute(
            "INSERT INTO task (project_id, item_id, x, y, width, height, status, created_at) "
            "SELECT project_id, id, 0, 0, 8, 8, 'open', now() FROM item WHERE project_id = %(p)s ORDER BY id",
            {"p": pid})
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE item")
        conn.execute("VACUUM ANALYZE task")
    return pid


def lease_sql(project_id: int, user_id: int) -> str:
    """The app's own lease statement (queue.service.free_in_order, as _first_free runs it; no ranked model
    here: the first of its statements), with literal values and now() for the clock."""
    from sqlalchemy import func
    from sqlalchemy.dialects import postgresql

    from app.queue import service as queue_service
    from app.queue.models import Task

    free = queue_service.free_in_order(project_id, user_id, None, 0, func.now())[0]  # type: ignore[arg-type]
    stmt = free.limit(1).with_for_update(skip_locked=True, of=Task)
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def user_ids(url: str, names: list[str]) -> list[int]:
    import psycopg

    with psycopg.connect(libpq(url)) as conn:
        rows = dict(conn.execute("SELECT username, id FROM user_account WHERE username = ANY(%s)", [names]).fetchall())
    return [int(rows[n]) for n in names]


async def bare_sql_leases(url: str, project_id: int, uids: list[int], seconds: float) -> list[float]:
    """N connections lease as the app does (SELECT ... FOR UPDATE SKIP LOCKED, INSERT, COMMIT); ms each."""
    import psycopg

    times: list[float] = []

    # Compiled before the clock starts: compiling the statement 50 times took longer than the phase.
    statements = {uid: lease_sql(project_id, uid) for uid in uids}
    deadline = time.monotonic() + seconds

    async def one(uid: int) -> None:
        sql = statements[uid]
        async with await psycopg.AsyncConnection.connect(libpq(url)) as conn:
            for _ in range(100_000):
                if time.monotonic() >= deadline:
                    return
                t0 = time.perf_counter()
                async with conn.transaction():
                    row = await (await conn.execute(sql)).fetchone()
                    if row is None:
                        return
                    await conn.execute("INSERT INTO lease (task_id, user_id, created_at, expires_at) "
                                       "VALUES (%s, %s, now(), now() + interval '900 seconds')", (row[0], uid))
                times.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(one(uid) for uid in uids))
    return times


def explain(url: str, project_id: int, uid: int) -> str:
    import psycopg

    with psycopg.connect(libpq(url)) as conn:  # FOR UPDATE takes locks: rolled back on leaving
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + lease_sql(project_id, uid)).fetchall()
        conn.rollback()
    return "\n".join("    " + r[0] for r in rows)


STEPS = ("session+user", "project", "lease", "serialize", "commit")  # the route's order (app/flows/router.py)


def profile_next(project_id: int, username: str, rounds: int) -> dict[str, float]:
    """In-process, one caller: per step of a next-task request as the route runs it (the session cookie's
    user, the member's project, leasing.next_task, the commit, the response's model and JSON), the median
    milliseconds, statements and milliseconds spent inside the database driver (the rest is Python). Then
    the whole request through the ASGI app (every middleware, routing, the dependencies, the JSON) with
    httpx's ASGI transport: its median minus the steps' sum is the framework's share. Statements of the
    first round are kept in `PROFILE_STATEMENTS` (step, first line of the SQL)."""
    from sqlalchemy import event

    from app.auth import service as auth_service
    from app.auth import sessions
    from app.db import get_engine, new_session
    from app.flows import leasing
    from app.projects import service as project_service
    from app.queue import service as queue_service
    from app.queue.router import task_read

    statements, in_db, step_now = 0, 0.0, [""]
    started: list[float] = []
    nth = [0]  # the statement's place in this round: its driver time is kept per place, over the rounds
    per_place: dict[int, list[float]] = {}

    def before(*args: object) -> None:
        nonlocal statements
        statements += 1
        started.append(time.perf_counter())
        if len(PROFILE_STATEMENTS) < 200 and round_no[0] == 0:
            PROFILE_STATEMENTS.append((step_now[0], " ".join(str(args[2]).split())[:110]))

    def after(*_: object) -> None:
        nonlocal in_db
        took = time.perf_counter() - started.pop()
        in_db += took
        per_place.setdefault(nth[0], []).append(took * 1000)
        nth[0] += 1

    round_no = [-1]  # the login below is set-up, not a round
    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    steps: dict[str, list[float]] = {k: [] for k in STEPS}
    stmts: dict[str, list[int]] = {k: [] for k in STEPS}
    db_ms: dict[str, list[float]] = {k: [] for k in STEPS}
    session = new_session()
    try:  # a login session, looked up on every round as the cookie's is
        user = auth_service.get_by_username(session=session, username=username)
        assert user is not None
        token = sessions.start(session=session, user=user)
        session.commit()
    finally:
        session.close()
    cpu: list[float] = []
    marks: list[tuple[float, int, float]] = []

    def mark(step: str) -> None:
        marks.append((time.perf_counter(), statements, in_db))
        step_now[0] = step

    try:
        for r in range(rounds):
            round_no[0] = r
            nth[0] = 0
            c0 = time.process_time()
            session = new_session()
            try:
                marks[:] = [(time.perf_counter(), statements, in_db)]
                step_now[0] = STEPS[0]
                user = sessions.user_for(session=session, token=token)
                assert user is not None
                mark(STEPS[1])
                project = project_service.get_for_member(session=session, project_id=project_id, user=user)
                assert project is not None
                mark(STEPS[2])
                task = leasing.next_task(session=session, project=project, user=user)
                mark(STEPS[3])
                assert task is not None
                task_read(session, task, user).model_dump_json()
                mark(STEPS[4])
                session.commit()
                mark("release")
                cpu.append((time.process_time() - c0) * 1000)
                queue_service.release(session=session, task=task, user=user)  # give it back for the next round
                session.commit()
            finally:
                session.close()
            for (name, (t0, s0, d0), (t1, s1, d1)) in zip(STEPS, marks, marks[1:], strict=False):
                steps[name].append((t1 - t0) * 1000)
                stmts[name].append(s1 - s0)
                db_ms[name].append((d1 - d0) * 1000)
        out: dict[str, float] = {}
        for name in STEPS:
            out[f"{name}_ms"] = statistics.median(steps[name])
            out[f"{name}_statements"] = statistics.median(stmts[name])
            out[f"{name}_db_ms"] = statistics.median(db_ms[name])
        out["steps_cpu_ms"] = statistics.median(cpu)
        PROFILE_STATEMENT_MS[:] = [statistics.median(per_place.get(i, [0.0])) for i in range(len(PROFILE_STATEMENTS))]
        checkouts = [0]

        def checkout(*_: object) -> None:  # each checkout pings the server first (pool_pre_ping)
            checkouts[0] += 1

        event.listen(engine, "checkout", checkout)
        try:
            out["asgi_ms"], out["asgi_cpu_ms"], out["asgi_statements"], out["asgi_checkouts"] = asyncio.run(
                _asgi_next(project_id, username, rounds, lambda: statements, lambda: checkouts[0]))
        finally:
            event.remove(engine, "checkout", checkout)
        return out
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


PROFILE_STATEMENTS: list[tuple[str, str]] = []
PROFILE_STATEMENT_MS: list[float] = []  # median driver time of each of PROFILE_STATEMENTS, by place in the round


async def _asgi_next(project_id: int, username: str, rounds: int, count: object,
                     checkouts: object) -> tuple[float, float, float, float]:
    """Median ms, CPU ms of this process (every thread), statements and connection checkouts of POST
    /tasks/next (then a release) through the whole ASGI app, in process."""
    import httpx

    from app.main import create_app

    app = create_app()
    times: list[float] = []
    cpu: list[float] = []
    per: list[int] = []
    pings: list[int] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        api = f"/api/v1/projects/{project_id}"
        for _ in range(rounds):
            s0, k0 = count(), checkouts()  # type: ignore[operator]
            t0, c0 = time.perf_counter(), time.process_time()
            r = await client.post(f"{api}/tasks/next")
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            per.append(count() - s0)  # type: ignore[operator]
            pings.append(checkouts() - k0)  # type: ignore[operator]
            r.raise_for_status()
            (await client.post(f"{api}/tasks/{r.json()['id']}/release")).raise_for_status()
    return statistics.median(times), statistics.median(cpu), statistics.median(per), statistics.median(pings)


async def run_annotators(base_url: str, project_id: int, names: list[str], seconds: float,
                         max_cycles: int | None, think_s: float = 0.0) -> tuple[Tally, float]:
    """Everyone logs in first (scrypt: not what is measured); the clock starts when the last one has."""
    tally = Tally()
    mask = mask_png(8, 8)
    waiting = len(names)
    go = asyncio.Event()
    start: list[float] = []

    async def logged_in() -> float:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            start.append(time.monotonic())
            go.set()
        try:  # bounded: an annotator whose login failed never arrives
            await asyncio.wait_for(go.wait(), 300)
        except TimeoutError:
            start.append(time.monotonic())
        return start[0] + seconds

    login_deadline = time.monotonic() + seconds + 300
    await asyncio.gather(*(annotator(base_url=base_url, username=n, password=PASSWORD, project_id=project_id,
                                     mask=mask, tally=tally, deadline=login_deadline, max_cycles=max_cycles,
                                     logged_in=logged_in, think_s=think_s) for n in names))
    return tally, (time.monotonic() - start[0]) if start else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--annotators", type=int, default=50)
    ap.add_argument("--tasks", type=int, default=100_000, help="tasks of the main project")
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the main run")
    ap.add_argument("--phase-seconds", type=float, default=10.0, help="length of the small/large runs and SQL")
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--admin-url", default=None)
    ap.add_argument("--quick", action="store_true", help="a small run for a smoke test (< 60 s)")
    ap.add_argument("--statements", action="store_true", help="list the profiled request's SQL statements")
    ap.add_argument("--think-ms", type=float, default=0.0,
                    help="also run the main project with this pause after each submit (an annotator at work), "
                         "reported apart; the targets and the JSON line stay the closed loop's")
    args = ap.parse_args()
    if args.quick:
        args.annotators, args.tasks, args.seconds, args.phase_seconds = 6, 2_000, 3.0, 2.0
        args.small, args.large, args.workers = 500, 20_000, 2

    t_all = time.monotonic()
    load = os.getloadavg()
    with database(args) as url, tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp:
        os.environ.update({"LABELWISE_DATABASE_URL": url, "LABELWISE_DATA_DIR": str(Path(tmp) / "data"),
                           "LABELWISE_SECRET_KEY": "bench-secret-key"})
        os.environ.pop("LABELWISE_BROKER_URL", None)
        from app.config import get_settings
        from app.db import reset_engine
        from app.migrate import upgrade_head

        get_settings.cache_clear()
        reset_engine()
        upgrade_head()
        t0 = time.monotonic()
        names = seed_users(args.annotators + 1)
        annotators, profiler = names[:-1], names[-1]
        pids = {size: seed_project(url, f"bench-{size}", size, names) for size in (args.small, args.tasks, args.large)}
        seed_s = time.monotonic() - t0
        print(f"seeded {args.small:,} + {args.tasks:,} + {args.large:,} tasks and {len(names)} users in {seed_s:.1f} s")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = server_env(url, Path(tmp) / "data")
        with server(env, port, Path(tmp) / "uvicorn.log", workers=args.workers):
            # Small and large: a short run each, capped so neither queue drains by much.
            cap = max(1, args.small // (4 * args.annotators))
            # Not measured: a fresh server's first seconds (each worker opens its pool's connections) went to
            # whichever phase came first, the 1k one, and made 1M look faster than 1k (0.67x).
            asyncio.run(run_annotators(base, pids[args.tasks], annotators, min(5.0, args.phase_seconds), cap))
            small, _ = asyncio.run(run_annotators(base, pids[args.small], annotators, args.phase_seconds, cap))
            client_cpu = time.process_time()  # the simulated annotators run in this process
            main_run, main_s = asyncio.run(run_annotators(base, pids[args.tasks], annotators, args.seconds,
                                                          args.tasks // (2 * args.annotators)))
            client_cpu = time.process_time() - client_cpu
            large, _ = asyncio.run(run_annotators(base, pids[args.large], annotators, args.phase_seconds, cap))
            if args.think_ms > 0:  # the clock time, to set beside the machine's own logs (checkpoints, autovacuum)
                print(f"think-time pass from {time.strftime('%H:%M:%S')}", flush=True)
            thinking = asyncio.run(run_annotators(base, pids[args.tasks], annotators, args.seconds,
                                                  args.tasks // (2 * args.annotators), args.think_ms / 1000)) \
                if args.think_ms > 0 else None
        uids = user_ids(url, annotators)
        sql_ms = asyncio.run(bare_sql_leases(url, pids[args.tasks], uids, args.phase_seconds))
        prof = profile_next(pids[args.tasks], profiler, 30 if args.quick else 200)
        plan_small = explain(url, pids[args.small], uids[0])
        plan_large = explain(url, pids[args.large], uids[0])

    errors = main_run.errors + small.errors + large.errors
    fig = {
        "next_p50_ms": round(pct(main_run.next_ms, 50), 2),
        "next_p99_ms": round(pct(main_run.next_ms, 99), 2),
        "submit_p99_ms": round(pct(main_run.submit_ms, 99), 2),
        "cycles_per_s": round(main_run.cycles / main_s, 1) if main_s else 0.0,
        "sql_lease_p50_ms": round(pct(sql_ms, 50), 2),
        "next_p50_ms_1k": round(pct(small.next_ms, 50), 2),
        "next_p50_ms_1m": round(pct(large.next_ms, 50), 2),
    }
    print(f"\nload average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; "
          f"{args.annotators} annotators, {args.workers} uvicorn workers")
    print(f"main ({args.tasks:,} tasks, {main_s:.1f} s): {main_run.cycles} cycles, {fig['cycles_per_s']}/s; "
          f"next p50 {fig['next_p50_ms']} ms p99 {fig['next_p99_ms']} ms; submit p50 "
          f"{pct(main_run.submit_ms, 50):.2f} ms p99 {fig['submit_p99_ms']} ms")
    print(f"  the {args.annotators} simulated annotators (this process) used {client_cpu:.1f} s of CPU in the main "
          f"run, {client_cpu / main_s if main_s else 0:.2f} of a core on average, logins included")
    print(f"bare SQL lease ({len(uids)} connections, {len(sql_ms)} leases): p50 {fig['sql_lease_p50_ms']} ms, "
          f"p99 {pct(sql_ms, 99):.2f} ms")
    print(f"next p50 at {args.small:,} tasks: {fig['next_p50_ms_1k']} ms ({len(small.next_ms)} calls); at "
          f"{args.large:,}: {fig['next_p50_ms_1m']} ms ({len(large.next_ms)} calls)")
    if thinking is not None:
        run, secs = thinking
        print(f"NOT the target's figure: with {args.think_ms:.0f} ms of think time after each submit ({args.tasks:,} "
              f"tasks, {secs:.1f} s): {run.cycles} cycles, {run.cycles / secs if secs else 0:.1f}/s; next p50 "
              f"{pct(run.next_ms, 50):.2f} ms p99 {pct(run.next_ms, 99):.2f} ms; submit p99 "
              f"{pct(run.submit_ms, 99):.2f} ms")
        errors = errors + run.errors
    if errors:
        print(f"errors: {dict(errors)}")
    print("\nwhere a next-task request spends its time (in-process, one caller, median per step; db = inside "
          "the driver, the rest is Python):")
    for step in STEPS:
        print(f"  {step:13s} {prof[step + '_ms']:7.2f} ms  {prof[step + '_statements']:.0f} statements  "
              f"db {prof[step + '_db_ms']:6.2f} ms")
    in_process = sum(prof[s + "_ms"] for s in STEPS)
    print(f"  steps' total {in_process:.2f} ms ({prof['steps_cpu_ms']:.2f} ms of CPU in this process); the whole "
          f"request through the ASGI app (middleware, routing, dependencies, JSON) {prof['asgi_ms']:.2f} ms "
          f"({prof['asgi_cpu_ms']:.2f} ms of CPU), {prof['asgi_statements']:.0f} statements on "
          f"{prof['asgi_checkouts']:.0f} connection checkout(s), each a ping: the framework's share "
          f"{prof['asgi_cpu_ms'] - prof['steps_cpu_ms']:.2f} ms of CPU (wall times move with the machine's load). "
          f"The rest of the HTTP p50 ({fig['next_p50_ms']} ms) is uvicorn, "
          "the client and queueing behind other requests on the CPUs")
    if args.statements:
        for (step, sql), ms in zip(PROFILE_STATEMENTS, PROFILE_STATEMENT_MS, strict=False):
            print(f"    {ms:6.2f} ms [{step}] {sql}")
    print(f"\nEXPLAIN ANALYZE of the lease statement, {args.small:,} tasks:\n{plan_small}")
    print(f"EXPLAIN ANALYZE of the lease statement, {args.large:,} tasks:\n{plan_large}")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    ratio_size = fig["next_p50_ms_1m"] / fig["next_p50_ms_1k"] if fig["next_p50_ms_1k"] else float("nan")
    ratio_sql = fig["next_p50_ms"] / fig["sql_lease_p50_ms"] if fig["sql_lease_p50_ms"] else float("nan")
    print("\ntargets" + (" (--quick: sizes and counts are not the targets')" if args.quick else "") + ":")
    print(f"  next p99 <= 25 ms at {args.annotators} annotators on {args.tasks:,} tasks: {fig['next_p99_ms']} ms, "
          f"{verdict(fig['next_p99_ms'] <= 25)}")
    print(f"  next p50 at {args.large:,} within 1.2x of {args.small:,}: {ratio_size:.2f}x, "
          f"{verdict(ratio_size <= 1.2)}")
    print(f"  API next p50 within 3x of the bare SQL lease: {ratio_sql:.2f}x, {verdict(ratio_sql <= 3)}")
    if fig["cycles_per_s"]:
        # Little's law for a closed loop without think time: each annotator's cycle lasts N / X.
        cycle_ms = args.annotators / fig["cycles_per_s"] * 1000
        needed = args.annotators / 0.05  # cycles/s for a cycle of about 50 ms
        cpus = os.cpu_count() or 1
        print(f"  closed loop: {args.annotators} annotators at {fig['cycles_per_s']} cycles/s wait {cycle_ms:.0f} ms "
              f"per next+submit cycle (N / X); a next p99 of 25 ms needs a cycle near 50 ms, {needed:.0f} cycles/s: "
              f"{1000 * cpus / needed:.1f} ms of CPU per cycle on {cpus} CPUs, server, database and clients together")
    print(f"total {time.monotonic() - t_all:.0f} s")
    if thinking is not None:  # after the issue's keys: the think-time pass, apart from the targets' figures
        fig.update(think_ms=args.think_ms, think_next_p50_ms=round(pct(thinking[0].next_ms, 50), 2),
                   think_next_p99_ms=round(pct(thinking[0].next_ms, 99), 2),
                   think_submit_p99_ms=round(pct(thinking[0].submit_ms, 99), 2))
    print(json.dumps(fig))


if __name__ == "__main__":
    main()
