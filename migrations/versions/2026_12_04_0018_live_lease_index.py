"""lease: a partial index on the live leases (released_at IS NULL), by user then task

Every lease reads the live leases (app.queue.overlap.room_for, the held-task check); without this index
that read scanned the whole lease history (50,000 released leases: 19 ms of a 21 ms lease statement).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_lease_live', 'lease', ['user_id', 'task_id'], unique=False,
                    postgresql_where=sa.text('released_at IS NULL'), sqlite_where=sa.text('released_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_lease_live', table_name='lease')
