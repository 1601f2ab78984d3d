"""representation: each project's self-supervised trunk (versioned) and the images' cached embeddings under it

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('representation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'training', 'ready', 'failed', name='representation_status',
                                native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('weights_path', sa.String(length=500), nullable=True),
    sa.Column('pool_size', sa.Integer(), nullable=False),
    sa.Column('loss_before', sa.Float(), nullable=True),
    sa.Column('loss_after', sa.Float(), nullable=True),
    sa.Column('steps', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_representation_project_id_project'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['user_account.id'],
                            name=op.f('fk_representation_started_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_representation')),
    sa.UniqueConstraint('project_id', 'version', name='uq_representation_project_id_version')
    )
    with op.batch_alter_table('representation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_representation_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_representation_status'), ['status'], unique=False)
    op.create_table('item_embedding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('representation_id', sa.Integer(), nullable=False),
    sa.Column('vector', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_item_embedding_item_id_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['representation_id'], ['representation.id'],
                            name=op.f('fk_item_embedding_representation_id_representation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_embedding')),
    sa.UniqueConstraint('item_id', 'representation_id', name='uq_item_embedding_item_id_representation_id')
    )
    with op.batch_alter_table('item_embedding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_embedding_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_embedding_representation_id'), ['representation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item_embedding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_embedding_representation_id'))
        batch_op.drop_index(batch_op.f('ix_item_embedding_item_id'))
    op.drop_table('item_embedding')
    with op.batch_alter_table('representation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_representation_status'))
        batch_op.drop_index(batch_op.f('ix_representation_project_id'))
    op.drop_table('representation')
