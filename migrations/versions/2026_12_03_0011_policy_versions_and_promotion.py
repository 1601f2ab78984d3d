"""policy versions and model promotion: sampling_policy (who, when, why), the policy version each
ranking used, and each model version's promotion state and representation version

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sampling_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('strategy', sa.String(length=32), nullable=False),
    sa.Column('weight_uncertainty', sa.Float(), nullable=False),
    sa.Column('weight_diversity', sa.Float(), nullable=False),
    sa.Column('weight_class_boost', sa.Float(), nullable=False),
    sa.Column('steered_share', sa.Float(), nullable=False),
    sa.Column('task_tile', sa.Integer(), nullable=True),
    sa.Column('retrain_trigger', sa.String(length=16), nullable=False),
    sa.Column('retrain_every', sa.Integer(), nullable=False),
    sa.Column('retrain_hours', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'],
                            name=op.f('fk_sampling_policy_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_sampling_policy_project_id_project'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_policy')),
    sa.UniqueConstraint('project_id', 'version', name='uq_sampling_policy_project_id_version')
    )
    with op.batch_alter_table('sampling_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sampling_policy_project_id'), ['project_id'], unique=False)
    # Every existing project's settings become its policy version 1 (the default hybrid weights).
    op.execute(
        "INSERT INTO sampling_policy (project_id, version, strategy, weight_uncertainty, weight_diversity, "
        "weight_class_boost, steered_share, task_tile, retrain_trigger, retrain_every, retrain_hours, reason, "
        "author_id, created_at) SELECT id, 1, strategy, 1.0, 0.5, 0.5, steered_share, task_tile, 'labels', "
        "retrain_every, NULL, 'the settings the project had before policies were versioned', created_by_id, "
        "created_at FROM project")
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('held_back', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('representation_version', sa.String(length=64), nullable=True))
    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.drop_column('policy_version')
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.drop_column('representation_version')
        batch_op.drop_column('held_back')
        batch_op.drop_column('live_since')
    with op.batch_alter_table('sampling_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sampling_policy_project_id'))
    op.drop_table('sampling_policy')
