"""Soak: 50 annotators over HTTP against a real uvicorn server on Postgres, for 2,000 tasks; the server
is SIGKILLed after 30% of them and started again under the annotators, who retry what was in flight
(a submit with its same client_token). Afterwards every task is annotated exactly once, by the one
annotator it was handed to, and every acknowledged submit is in the database."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from sqlalchemy import func, select

from bench.annotators import Tally, annotator, free_port, kill_server, mask_png, server_env, start_server
from tests.factories import make_project, make_user
from tests.scenes import add_tiny_tasks, run_in_own_loop

ANNOTATORS = 50
TASKS = 2000
KILL_AFTER = 0.3  # share of the tasks acknowledged before the SIGKILL
TIME_LIMIT = 240  # seconds for the whole run; the annotators stop by themselves before it


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgres"])
def test_fifty_annotators_with_a_server_killed_mid_run_lose_nothing_and_share_nothing(env, backend, tmp_path):
    import os

    from app.annotations.models import Annotation
    from app.auth.models import User
    from app.db import session_scope
    from app.queue.models import Lease, Task, TaskStatus

    make_user("lead", "lead")
    users = [f"ann{i:02d}" for i in range(ANNOTATORS)]
    for u in users:
        make_user(u)
    pid = make_project(owner="lead", members=tuple(users), retrain_every=100_000)  # no training in this test
    add_tiny_tasks(pid, TASKS)

    port = free_port()
    senv = server_env(os.environ["LABELWISE_DATABASE_URL"], env)
    log = tmp_path / "uvicorn.log"
    tally = Tally()
    deadline = time.monotonic() + TIME_LIMIT
    restarted: dict[str, float] = {}

    async def run() -> None:
        proc = await asyncio.to_thread(start_server, senv, port, log, 2)
        try:
            group = [annotator(base_url=f"http://127.0.0.1:{port}", username=u, password="password-123",
                               project_id=pid, mask=mask_png(8, 8), tally=tally, deadline=deadline)
                     for u in users]
            everyone = asyncio.gather(*group)
            while len(tally.acks) < KILL_AFTER * TASKS and not everyone.done() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert not everyone.done(), f"the annotators stopped before the kill: {tally.errors}"
            kill_server(proc, signal.SIGKILL)  # master and workers, mid-request
            restarted["acks_at_kill"] = len(tally.acks)
            await asyncio.sleep(1.0)  # requests fail meanwhile; the annotators keep retrying
            proc = await asyncio.to_thread(start_server, senv, port, log, 2)
            restarted["acks_at_restart"] = len(tally.acks)
            await everyone
        finally:
            kill_server(proc)

    t0 = time.monotonic()
    run_in_own_loop(run())  # not asyncio.run: a browser test may have left a loop on this thread
    elapsed = time.monotonic() - t0
    print(f"soak: {len(tally.acks)} acks in {elapsed:.0f} s, {restarted}, retried errors: {dict(tally.errors)}")

    # Errors other than the ones a restart explains (transport errors, 503) end an annotator: none happened.
    unexpected = {k: v for k, v in tally.errors.items() if not any(w in k for w in ("Error", "Timeout", "503"))}
    assert not unexpected, unexpected
    assert tally.empty == ANNOTATORS, "every annotator ran until the queue was empty"
    assert restarted["acks_at_kill"] < TASKS and len(tally.acks) - restarted["acks_at_restart"] > 0.5 * TASKS

    # No duplicate hand-out: every task went to exactly one annotator.
    shared = {t: u for t, u in tally.handed.items() if len(u) > 1}
    assert not shared, shared
    with session_scope() as session:
        names = dict(session.execute(select(User.id, User.username)).tuples().all())
        annotations = session.scalars(
            select(Annotation).join(Task, Task.id == Annotation.task_id).where(Task.project_id == pid)).all()
        open_left = session.scalar(select(func.count()).select_from(Task).where(
            Task.project_id == pid, Task.status != TaskStatus.done))
        leases = session.execute(select(Lease.task_id, Lease.user_id).join(Task, Task.id == Lease.task_id)
                                 .where(Task.project_id == pid)).tuples().all()
    # Every task annotated exactly once, by the annotator it was handed to.
    per_task: dict[int, list[Annotation]] = {}
    for a in annotations:
        per_task.setdefault(a.task_id, []).append(a)
    assert open_left == 0 and len(per_task) == TASKS
    assert all(len(v) == 1 for v in per_task.values()), {t: len(v) for t, v in per_task.items() if len(v) > 1}
    assert all({names[a.author_id]} == tally.handed[a.task_id] for a in annotations)
    # Leased to one user at a time: no task ever had leases of two users (none expired in this run).
    lease_users: dict[int, set[int]] = {}
    for task_id, user_id in leases:
        lease_users.setdefault(task_id, set()).add(user_id)
    assert all(len(v) == 1 for v in lease_users.values())
    # Nothing lost: every acknowledged submit is the stored annotation of its task, with its key.
    by_id = {a.id: a for a in annotations}
    for ack in tally.acks:
        stored = by_id.get(ack.annotation_id)
        assert stored is not None, ack
        assert (stored.task_id, names[stored.author_id], stored.client_token) == (ack.task_id, ack.user,
                                                                                  ack.client_token)
    assert len({a.task_id for a in tally.acks}) == TASKS
