"""machine labels: the lead's auto-accept policy per project and the audits drawn from it
(annotation status 'machine' needs no DDL: the status column is a plain string)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auto_accept_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('bar', sa.Float(), nullable=False),
    sa.Column('audit_share', sa.Float(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_auto_accept_policy_project_id_project'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                            name=op.f('fk_auto_accept_policy_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auto_accept_policy')),
    sa.UniqueConstraint('project_id', name=op.f('uq_auto_accept_policy_project_id'))
    )
    op.create_table('machine_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=True),
    sa.Column('miou_fg', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audited_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotation.id'], name=op.f('fk_machine_audit_annotation_id_annotation'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_version.id'],
                            name=op.f('fk_machine_audit_model_version_id_model_version'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_machine_audit_project_id_project'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_machine_audit_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_audit')),
    sa.UniqueConstraint('task_id', 'model_version_id', name='uq_machine_audit_task_id_model_version_id')
    )
    with op.batch_alter_table('machine_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_machine_audit_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_machine_audit_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    # machine labels go, and their tasks back to the queue (they never had a human label)
    op.execute("UPDATE task SET status = 'open' WHERE id IN (SELECT task_id FROM annotation WHERE status = 'machine')")
    op.execute("DELETE FROM annotation WHERE status = 'machine'")
    with op.batch_alter_table('machine_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_machine_audit_task_id'))
        batch_op.drop_index(batch_op.f('ix_machine_audit_project_id'))
    op.drop_table('machine_audit')
    op.drop_table('auto_accept_policy')
