"""`labelwise users set-role / deactivate` follow the desk's rules: the last active admin stays."""

from __future__ import annotations

from tests.test_cli import run_cli


def test_the_cli_refuses_to_demote_or_deactivate_the_last_active_admin(tmp_path):
    assert run_cli(["migrate"], tmp_path).returncode == 0
    assert run_cli(["users", "create", "root", "--role", "admin", "--password", "violet-harbor-42"],
                   tmp_path).returncode == 0
    for args in (["users", "set-role", "root", "lead"], ["users", "deactivate", "root"]):
        r = run_cli(args, tmp_path)
        assert r.returncode == 2 and "last active admin" in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1
    assert run_cli(["users", "create", "other", "--role", "admin", "--password", "violet-harbor-42"],
                   tmp_path).returncode == 0
    r = run_cli(["users", "deactivate", "root"], tmp_path)
    assert r.returncode == 0 and "deactivated" in r.stdout

    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'labelwise.sqlite3'}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action, user_id, detail FROM audit_log WHERE action LIKE 'user.%' "
                                 "AND action != 'user.create' ORDER BY id")).all()
        root = conn.execute(text("SELECT role, is_active FROM user_account WHERE username = 'root'")).one()
    engine.dispose()
    assert [(a, u) for a, u, _ in rows] == [("user.deactivate", None)]  # the refusals wrote nothing
    assert '"by": "cli"' in rows[0][2] and tuple(root) == ("admin", 0)
