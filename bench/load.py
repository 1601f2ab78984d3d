"""Load: N simulated annotators doing next -> submit over HTTP against uvicorn (several workers) on Postgres.

Usage: python bench/load.py [--annotators 50] [--tasks 100000] [--seconds 30] [--workers 4]
       [--database-url postgresql+psycopg://...] [--admin-url ...] [--small 1000] [--large 1000000] [--quick]

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
    """The app's own lease statement (queue.service: no ranked model here), with literal values."""
    from sqlalchemy import exists, func
    from sqlalchemy.dialects import postgresql

    from app.queue import service as queue_service
    from app.queue.models import Skip, Task

    skipped = exists().where(Skip.task_id == Task.id, Skip.user_id == user_id)
    stmt = (queue_service._queue_order(project_id, None)[0]
            .where(~exists().where(queue_service._active_lease_clause(func.now())), ~skipped)
            .limit(1).with_for_update(skip_locked=True, of=Task))
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
    deadline = time.monotonic() + seconds

    async def one(uid: int) -> None:
        sql = lease_sql(project_id, uid)
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


def profile_next(project_id: int, username: str, rounds: int) -> dict[str, float]:
    """In-process, one caller: milliseconds and SQL statements per step of a next-task request."""
    from sqlalchemy import event

    from app.auth import service as auth_service
    from app.db import get_engine, new_session
    from app.projects import service as project_service
    from app.queue import service as queue_service
    from app.queue.router import task_read

    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    steps: dict[str, list[float]] = {"auth+project": [], "lease": [], "commit": [], "serialize": []}
    stmts: dict[str, list[int]] = {k: [] for k in steps}
    try:
        for _ in range(rounds):
            session = new_session()
            try:
                marks = [(time.perf_counter(), statements)]
                user = auth_service.get_by_username(session=session, username=username)
                assert user is not None
                project = project_service.get_for_member(session=session, project_id=project_id, user=user)
                assert project is not None
                marks.append((time.perf_counter(), statements))
                task = queue_service.lease_next(session=session, project=project, user=user)
                marks.append((time.perf_counter(), statements))
                session.commit()
                marks.append((time.perf_counter(), statements))
                assert task is not None
                task_read(session, task, user).model_dump_json()
                marks.append((time.perf_counter(), statements))
                queue_service.release(session=session, task=task, user=user)  # give it back for the next round
                session.commit()
            finally:
                session.close()
            for (name, (t0, s0), (t1, s1)) in zip(steps, marks, marks[1:], strict=False):
                steps[name].append((t1 - t0) * 1000)
                stmts[name].append(s1 - s0)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    out: dict[str, float] = {}
    for name in steps:
        out[f"{name}_ms"] = statistics.median(steps[name])
        out[f"{name}_statements"] = statistics.median(stmts[name])
    return out


async def run_annotators(base_url: str, project_id: int, names: list[str], seconds: float,
                         max_cycles: int | None) -> tuple[Tally, float]:
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
                                     logged_in=logged_in) for n in names))
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
            small, _ = asyncio.run(run_annotators(base, pids[args.small], annotators, args.phase_seconds, cap))
            main_run, main_s = asyncio.run(run_annotators(base, pids[args.tasks], annotators, args.seconds,
                                                          args.tasks // (2 * args.annotators)))
            large, _ = asyncio.run(run_annotators(base, pids[args.large], annotators, args.phase_seconds, cap))
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
    print(f"bare SQL lease ({len(uids)} connections, {len(sql_ms)} leases): p50 {fig['sql_lease_p50_ms']} ms, "
          f"p99 {pct(sql_ms, 99):.2f} ms")
    print(f"next p50 at {args.small:,} tasks: {fig['next_p50_ms_1k']} ms ({len(small.next_ms)} calls); at "
          f"{args.large:,}: {fig['next_p50_ms_1m']} ms ({len(large.next_ms)} calls)")
    if errors:
        print(f"errors: {dict(errors)}")
    print("\nwhere a next-task request spends its time (in-process, one caller, median per step):")
    for step in ("auth+project", "lease", "commit", "serialize"):
        print(f"  {step:13s} {prof[step + '_ms']:7.2f} ms  {prof[step + '_statements']:.0f} statements")
    in_process = sum(prof[s + "_ms"] for s in ("auth+project", "lease", "commit", "serialize"))
    print(f"  in-process total {in_process:.2f} ms; the rest of the HTTP p50 ({fig['next_p50_ms']} ms) is the "
          "session cookie, routing, JSON, the event loop and queueing behind other requests on the CPUs")
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
    print(f"total {time.monotonic() - t_all:.0f} s")
    print(json.dumps(fig))


if __name__ == "__main__":
    main()
