"""docker-compose.yml and Dockerfile are checked statically: no Docker engine is needed."""

from __future__ import annotations

import enum
import importlib
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
APP_SERVICES = ("api", "worker", "beat")
APP_ENV = {
    "LABELWISE_DATABASE_URL": "postgresql+psycopg://labelwise:labelwise@postgres:5432/labelwise",
    "LABELWISE_BROKER_URL": "redis://redis:6379/0",
    "LABELWISE_DATA_DIR": "/data",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def command_text(service: dict[str, Any]) -> str:
    cmd = service["command"]
    return cmd if isinstance(cmd, str) else shlex.join(cmd)


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # ["KEY=value", ...] form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_services_present(services: dict[str, Any]) -> None:
    assert {"postgres", "redis", *APP_SERVICES} <= set(services)


def test_images_pinned_to_major(services: dict[str, Any]) -> None:
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"


def test_postgres_healthcheck_and_volume(services: dict[str, Any], compose: dict[str, Any]) -> None:
    pg = services["postgres"]
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    env = env_of(pg)
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"]) == ("labelwise",) * 3
    named = [v.split(":")[0] for v in pg["volumes"] if v.split(":")[1] == "/var/lib/postgresql/data"]
    assert named and named[0] in compose["volumes"]


def test_redis_healthcheck(services: dict[str, Any]) -> None:
    test = services["redis"]["healthcheck"]["test"]
    assert "redis-cli" in test and "ping" in test


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_env_and_data_volume(
    name: str, services: dict[str, Any], compose: dict[str, Any]
) -> None:
    svc = services[name]
    env = env_of(svc)
    for key, value in APP_ENV.items():
        assert env.get(key) == value, f"{name}: {key}"
    assert "labelwise-data:/data" in svc["volumes"]
    assert "labelwise-data" in compose["volumes"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_healthy_backends(name: str, services: dict[str, Any]) -> None:
    deps = services[name]["depends_on"]
    assert isinstance(deps, dict), "use the long form so the health condition applies"
    for backend in ("postgres", "redis"):
        assert deps[backend]["condition"] == "service_healthy", f"{name} -> {backend}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_share_one_image_built_from_dockerfile(name: str, services: dict[str, Any]) -> None:
    build = services[name]["build"]
    context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (context / dockerfile).is_file()
    assert services[name]["image"] == services["api"]["image"]


def test_every_build_context_has_a_dockerfile(services: dict[str, Any]) -> None:
    builds = [svc["build"] for svc in services.values() if "build" in svc]
    assert builds
    for build in builds:
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).is_file(), f"{context}/{dockerfile}"


def test_api_migrates_before_serving(services: dict[str, Any]) -> None:
    api = services["api"]
    cmd = command_text(api)
    assert "alembic upgrade head" in cmd and "uvicorn --factory app.main:create_app" in cmd
    assert cmd.index("alembic upgrade head") < cmd.index("uvicorn")
    between = cmd[cmd.index("alembic upgrade head") : cmd.index("uvicorn")]
    assert "&&" in between, "uvicorn must not start when the migration fails"
    assert "--host 0.0.0.0" in cmd and "--port 8000" in cmd
    assert any(str(p).startswith("8000:8000") for p in api["ports"])


def _queues(cmd: str) -> set[str]:
    match = re.search(r"(?:-Q|--queues)[ =](\S+)", cmd)
    assert match, cmd
    return set(match.group(1).strip("'\"").split(","))


def test_worker_and_beat_commands(services: dict[str, Any]) -> None:
    worker = command_text(services["worker"])
    assert worker.startswith("celery -A workers.celery_app worker")
    assert {"default", "training", "scoring"} <= _queues(worker)
    assert command_text(services["beat"]).startswith("celery -A workers.celery_app beat")


def test_worker_consumes_every_declared_queue(services: dict[str, Any]) -> None:
    """A queue nobody consumes would hang its jobs: every queue workers/queues.py declares, and every
    queue a registered job is sent to, is in the compose worker's -Q list."""
    from app import jobs

    queues_mod = importlib.import_module("workers.queues")
    declared = {
        str(member.value)
        for obj in vars(queues_mod).values()
        if isinstance(obj, type) and issubclass(obj, enum.Enum) and obj.__module__ == queues_mod.__name__
        for member in obj
    }
    assert declared, "no queue Enum found in workers.queues"
    assert declared <= _queues(command_text(services["worker"]))
    assert {j.queue for j in jobs.registry().values()} <= declared


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    torch = next(i for i, ln in enumerate(lines) if "pip install torch" in ln)
    assert "torch==2.13.0" in lines[torch]
    assert "--index-url https://download.pytorch.org/whl/cpu" in lines[torch]
    project = next(i for i, ln in enumerate(lines) if re.search(r"pip install \.(\s|$)", ln))
    assert torch < project, "torch must be installed before the project so no CUDA build is pulled"
    copied = " ".join(ln for ln in lines if ln.startswith("COPY"))
    for path in ("app", "workers", "migrations", "alembic.ini", "templates", "static", "pyproject.toml"):
        assert re.search(rf"\b{re.escape(path)}\b", copied), f"Dockerfile does not COPY {path}"


def test_dockerfile_copies_only_paths_that_exist() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"] and not any(p.startswith("--") for p in parts):
            for src in parts[1:-1]:
                assert (ROOT / src).exists(), f"Dockerfile copies {src}, which is not in the repo"


def test_api_entry_point_exists():
    from app.main import create_app

    assert callable(create_app)


def test_app_services_have_healthchecks_and_the_worker_waits_for_a_healthy_api(services: dict[str, Any]) -> None:
    api, worker, beat = (services[name] for name in APP_SERVICES)
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert "inspect ping" in " ".join(worker["healthcheck"]["test"])
    assert "celerybeat-schedule" in " ".join(beat["healthcheck"]["test"])
    assert worker["depends_on"]["api"]["condition"] == "service_healthy"


def test_every_setting_the_readme_lists_is_passed_through(services: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `(LABELWISE_[A-Z_]+)`", readme, re.M))
    listed |= {v for row in re.findall(r"^\| (`LABELWISE_[^|]+)\|", readme, re.M)
               for v in re.findall(r"`(LABELWISE_[A-Z_]+)`", row)}
    assert len(listed) >= 15
    for name in APP_SERVICES:
        assert listed <= set(env_of(services[name])), sorted(listed - set(env_of(services[name])))


def test_an_empty_setting_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import Settings

    monkeypatch.setenv("LABELWISE_LEASE_SECONDS", "")
    assert Settings().lease_seconds == 15 * 60
