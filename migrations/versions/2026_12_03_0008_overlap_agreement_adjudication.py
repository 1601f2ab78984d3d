"""overlap, agreement, adjudication: per-project overlap policy, the tasks that drew it and their copies,
per-pair per-class agreement, adjudications, and the annotation's `adjudicated` mark

Revision ID: 0008
Revises: 0015
Create Date: 2026-12-03 06:20:03.932308
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('overlap_policy',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('share', sa.Float(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('uncertainty_threshold', sa.Float(), nullable=True),
    sa.Column('agreement_threshold', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_overlap_policy_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_overlap_policy'))
    )
    op.create_table('overlap_task',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_overlap_task_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_overlap_task'))
    )
    op.create_table('task_agreement',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('mean_iou', sa.Float(), nullable=False),
    sa.Column('mean_dice', sa.Float(), nullable=False),
    sa.Column('worst_class_index', sa.Integer(), nullable=True),
    sa.Column('worst_iou', sa.Float(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_task_agreement_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_agreement_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', name=op.f('pk_task_agreement'))
    )
    with op.batch_alter_table('task_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_agreement_project_id'), ['project_id'], unique=False)

    op.create_table('task_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_copy_task_id_task'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_task_copy_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_copy')),
    sa.UniqueConstraint('task_id', 'user_id', name='uq_task_copy_task_id_user_id')
    )
    with op.batch_alter_table('task_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_copy_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_copy_user_id'), ['user_id'], unique=False)

    op.create_table('adjudication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('adjudicator_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['adjudicator_id'], ['user_account.id'], name=op.f('fk_adjudication_adjudicator_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotation.id'], name=op.f('fk_adjudication_annotation_id_annotation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_adjudication_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_adjudication_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjudication'))
    )
    with op.batch_alter_table('adjudication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjudication_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adjudication_task_id'), ['task_id'], unique=False)

    op.create_table('pair_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('user_a_id', sa.Integer(), nullable=False),
    sa.Column('user_b_id', sa.Integer(), nullable=False),
    sa.Column('annotation_a_id', sa.Integer(), nullable=False),
    sa.Column('annotation_b_id', sa.Integer(), nullable=False),
    sa.Column('class_index', sa.Integer(), nullable=False),
    sa.Column('pixels_a', sa.Integer(), nullable=False),
    sa.Column('pixels_b', sa.Integer(), nullable=False),
    sa.Column('intersection', sa.Integer(), nullable=False),
    sa.Column('iou', sa.Float(), nullable=True),
    sa.Column('dice', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['annotation_a_id'], ['annotation.id'], name=op.f('fk_pair_agreement_annotation_a_id_annotation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['annotation_b_id'], ['annotation.id'], name=op.f('fk_pair_agreement_annotation_b_id_annotation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_pair_agreement_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_pair_agreement_task_id_task'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_a_id'], ['user_account.id'], name=op.f('fk_pair_agreement_user_a_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_b_id'], ['user_account.id'], name=op.f('fk_pair_agreement_user_b_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pair_agreement')),
    sa.UniqueConstraint('task_id', 'user_a_id', 'user_b_id', 'class_index', name='uq_pair_agreement_task_id_user_a_id_user_b_id_class_index')
    )
    with op.batch_alter_table('pair_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_agreement_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_agreement_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_agreement_user_a_id'), ['user_a_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_agreement_user_b_id'), ['user_b_id'], unique=False)

    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adjudicated', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.drop_column('adjudicated')

    with op.batch_alter_table('pair_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_agreement_user_b_id'))
        batch_op.drop_index(batch_op.f('ix_pair_agreement_user_a_id'))
        batch_op.drop_index(batch_op.f('ix_pair_agreement_task_id'))
        batch_op.drop_index(batch_op.f('ix_pair_agreement_project_id'))

    op.drop_table('pair_agreement')
    with op.batch_alter_table('adjudication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjudication_task_id'))
        batch_op.drop_index(batch_op.f('ix_adjudication_project_id'))

    op.drop_table('adjudication')
    with op.batch_alter_table('task_copy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_copy_user_id'))
        batch_op.drop_index(batch_op.f('ix_task_copy_task_id'))

    op.drop_table('task_copy')
    with op.batch_alter_table('task_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_agreement_project_id'))

    op.drop_table('task_agreement')
    op.drop_table('overlap_task')
    op.drop_table('overlap_policy')
