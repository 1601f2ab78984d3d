"""queue indexes: task (project_id, status, id) where the lease starts its walk; score
(model_version_id, rank), the ranking in the order it is handed out

Revision ID: 0015
Revises: 0006
Create Date: 2026-12-03 06:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_task_project_id_status_id', 'task', ['project_id', 'status', 'id'], unique=False)
    op.create_index('ix_score_model_version_id_rank', 'score', ['model_version_id', 'rank'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_score_model_version_id_rank', table_name='score')
    op.drop_index('ix_task_project_id_status_id', table_name='task')
