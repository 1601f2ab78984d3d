"""lead's setup: project archive and validation share, project roles of members, the budget table

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('validation_share', sa.Float(), server_default='0.1', nullable=False))
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.Enum('annotator', 'reviewer', 'lead', name='project_role',
                                                      native_enum=False, length=16),
                                      server_default='annotator', nullable=False))
    # Members so far had their global role in every project: leads and admins lead the projects they are in.
    op.execute("UPDATE membership SET role = 'lead' WHERE user_id IN "
               "(SELECT id FROM user_account WHERE role IN ('lead', 'admin'))")
    op.create_table('budget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('total_hours', sa.Float(), nullable=True),
    sa.Column('day_labels', sa.Integer(), nullable=True),
    sa.Column('day_hours', sa.Float(), nullable=True),
    sa.Column('week_labels', sa.Integer(), nullable=True),
    sa.Column('week_hours', sa.Float(), nullable=True),
    sa.Column('annotator_day_labels', sa.Integer(), nullable=True),
    sa.Column('annotator_day_hours', sa.Float(), nullable=True),
    sa.Column('plan_start', sa.Date(), nullable=True),
    sa.Column('plan_end', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_budget_project_id_project'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_budget_updated_by_id_user_account'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget')),
    sa.UniqueConstraint('project_id', name=op.f('uq_budget_project_id'))
    )


def downgrade() -> None:
    op.drop_table('budget')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('role')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
        batch_op.drop_column('validation_share')
