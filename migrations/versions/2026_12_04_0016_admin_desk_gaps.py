"""admin desk gaps: user_account.must_change_password (a password an admin set must be changed at the
next login); gold_answer.task_id no longer unique (each annotator answers the gold task's source task)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('gold_answer') as batch_op:
        batch_op.drop_constraint('uq_gold_answer_task_id', type_='unique')
        batch_op.create_index('ix_gold_answer_task_id', ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('gold_answer') as batch_op:
        batch_op.drop_index('ix_gold_answer_task_id')
        batch_op.create_unique_constraint('uq_gold_answer_task_id', ['task_id'])
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_column('must_change_password')
