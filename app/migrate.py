"""Running the Alembic migrations from code (the CLI, the demo and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from app.templating import ROOT


def alembic_config() -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_head() -> None:
    command.upgrade(alembic_config(), "head")
