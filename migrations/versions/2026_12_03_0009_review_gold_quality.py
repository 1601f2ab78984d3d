"""review, error taxonomy, gold tasks, returned tasks, quality scores; project review_share, gold_rate

Revision ID: 0009
Revises: 0008, 0015 (0006 on its own; here it also joins overlap's 0008 and main's 0015)
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | tuple[str, ...] | None = ('0008', '0015')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column:
    return sa.Column('id', sa.Integer(), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str | None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'),
                                   ondelete=ondelete)


def upgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_share', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('gold_rate', sa.Float(), server_default='0', nullable=False))

    op.create_table('error_type', _id(),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _fk('error_type', 'project_id', 'project', 'CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_error_type')),
    sa.UniqueConstraint('project_id', 'name', name='uq_error_type_project_id_name'))
    op.create_index(op.f('ix_error_type_project_id'), 'error_type', ['project_id'])

    op.create_table('review', _id(),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('annotator_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'rejected', name='review_status', native_enum=False,
                                length=16), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('error_type_id', sa.Integer(), nullable=True),
    sa.Column('class_index', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    _fk('review', 'project_id', 'project', 'CASCADE'),
    _fk('review', 'task_id', 'task', 'CASCADE'),
    _fk('review', 'annotation_id', 'annotation', 'CASCADE'),
    sa.ForeignKeyConstraint(['annotator_id'], ['user_account.id'], name=op.f('fk_review_annotator_id_user_account'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], name=op.f('fk_review_reviewer_id_user_account'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['error_type_id'], ['error_type.id'], name=op.f('fk_review_error_type_id_error_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review')),
    sa.UniqueConstraint('annotation_id', name=op.f('uq_review_annotation_id')))
    for column in ('project_id', 'task_id', 'annotator_id', 'status'):
        op.create_index(op.f(f'ix_review_{column}'), 'review', [column])

    op.create_table('gold_task', _id(),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('source_task_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('x', sa.Integer(), nullable=False),
    sa.Column('y', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('mask_path', sa.String(length=500), nullable=False),
    sa.Column('source_annotation_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _fk('gold_task', 'project_id', 'project', 'CASCADE'),
    sa.ForeignKeyConstraint(['source_task_id'], ['task.id'], name=op.f('fk_gold_task_source_task_id_task'),
                            ondelete='CASCADE'),
    _fk('gold_task', 'item_id', 'item', 'CASCADE'),
    sa.ForeignKeyConstraint(['source_annotation_id'], ['annotation.id'],
                            name=op.f('fk_gold_task_source_annotation_id_annotation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                            name=op.f('fk_gold_task_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gold_task')))
    op.create_index(op.f('ix_gold_task_project_id'), 'gold_task', ['project_id'])
    op.create_index(op.f('ix_gold_task_source_task_id'), 'gold_task', ['source_task_id'])

    op.create_table('gold_answer', _id(),
    sa.Column('gold_task_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=True),
    sa.Column('per_class_iou', sa.JSON(), nullable=False),
    sa.Column('mean_iou', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    _fk('gold_answer', 'gold_task_id', 'gold_task', 'CASCADE'),
    _fk('gold_answer', 'task_id', 'task', 'CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_gold_answer_user_id_user_account'),
                            ondelete='CASCADE'),
    _fk('gold_answer', 'annotation_id', 'annotation', 'SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gold_answer')),
    sa.UniqueConstraint('task_id', name=op.f('uq_gold_answer_task_id')),
    sa.UniqueConstraint('gold_task_id', 'user_id', name='uq_gold_answer_gold_task_id_user_id'))
    op.create_index(op.f('ix_gold_answer_gold_task_id'), 'gold_answer', ['gold_task_id'])
    op.create_index(op.f('ix_gold_answer_user_id'), 'gold_answer', ['user_id'])

    op.create_table('task_return', _id(),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    _fk('task_return', 'task_id', 'task', 'CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_task_return_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_return')))
    for column in ('task_id', 'user_id', 'review_id'):
        op.create_index(op.f(f'ix_task_return_{column}'), 'task_return', [column])

    op.create_table('quality_score', _id(),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('gold_mean', sa.Float(), nullable=True),
    sa.Column('gold_count', sa.Integer(), nullable=False),
    sa.Column('agreement_mean', sa.Float(), nullable=True),
    sa.Column('agreement_count', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('evidence', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    _fk('quality_score', 'project_id', 'project', 'CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_quality_score_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_score')),
    sa.UniqueConstraint('project_id', 'user_id', name='uq_quality_score_project_id_user_id'))
    op.create_index(op.f('ix_quality_score_project_id'), 'quality_score', ['project_id'])
    op.create_index(op.f('ix_quality_score_user_id'), 'quality_score', ['user_id'])


def downgrade() -> None:
    for table in ('quality_score', 'task_return', 'gold_answer', 'gold_task', 'review', 'error_type'):
        op.drop_table(table)
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('gold_rate')
        batch_op.drop_column('review_share')
