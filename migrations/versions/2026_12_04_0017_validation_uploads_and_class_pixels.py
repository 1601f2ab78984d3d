"""uploads hold out the project's validation share: mark the images the upload draw put there;
each label's pixels per class, counted once at submit, and their sums per pick kind and strategy (the
dashboard's sampling mix by class)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('item', sa.Column('held_out_on_upload', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('annotation_class_pixels',
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('class_index', sa.SmallInteger(), nullable=False),
    sa.Column('pixels', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotation.id'],
                            name=op.f('fk_annotation_class_pixels_annotation_id_annotation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('annotation_id', 'class_index', name=op.f('pk_annotation_class_pixels'))
    )
    op.create_table('label_mix_pixels',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('strategy', sa.String(length=32), nullable=False),
    sa.Column('class_index', sa.SmallInteger(), nullable=False),
    sa.Column('pixels', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_label_mix_pixels_project_id_project'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'kind', 'strategy', 'class_index', name=op.f('pk_label_mix_pixels'))
    )


def downgrade() -> None:
    op.drop_table('label_mix_pixels')
    op.drop_table('annotation_class_pixels')
    op.drop_column('item', 'held_out_on_upload')
