"""annotation.project_id: a project's labels counted without a join

The retrain check counts a project's new pool labels on every submit. Through a join with item, Postgres
chose a merge join whose cost it scaled down by annotation's stale statistics and then walked every item of
every project: 1.1M rows, 1.5-1.9 s per submit once a large project had labels. The column is the item's
project, copied when the annotation is written (annotations are never moved between projects).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('annotation') as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
    op.execute('UPDATE annotation SET project_id = '
               '(SELECT item.project_id FROM item WHERE item.id = annotation.item_id)')
    with op.batch_alter_table('annotation') as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_annotation_project_id_project'), 'project', ['project_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_index('ix_annotation_project_id_status_created_at', ['project_id', 'status', 'created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('annotation') as batch_op:
        batch_op.drop_index('ix_annotation_project_id_status_created_at')
        batch_op.drop_constraint(batch_op.f('fk_annotation_project_id_project'), type_='foreignkey')
        batch_op.drop_column('project_id')
