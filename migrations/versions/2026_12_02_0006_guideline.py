"""guideline: versioned labeling guidelines per project (Markdown), with who and when

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('guideline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('flag_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_guideline_author_id_user_account'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_guideline_project_id_project'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guideline')),
    sa.UniqueConstraint('project_id', 'version', name='uq_guideline_project_id_version')
    )
    with op.batch_alter_table('guideline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guideline_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guideline_flag_id'), ['flag_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('guideline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guideline_flag_id'))
        batch_op.drop_index(batch_op.f('ix_guideline_project_id'))
    op.drop_table('guideline')
