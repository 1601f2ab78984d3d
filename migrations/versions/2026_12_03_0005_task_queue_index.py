"""task queue index: the open tasks of a project in id order, for the lease statement

The lease statement (queue.service._claim) asks for a project's first open task by id, FOR UPDATE SKIP
LOCKED. With only single-column indexes Postgres walked the task primary key from the table's first row
and filtered on project and status, so a project created after others (or with many done tasks at the
front of its queue) paid for every row before its first open one. This partial index holds exactly the
open tasks, by (project_id, id).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_index('ix_task_open_queue', 'task', ['project_id', 'id'], unique=False,
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_task_open_queue', table_name='task')
