"""uploads hold out the project's validation share: mark the images the upload draw put there;
each label's pixels per class, counted once at submit (the dashboard's sampling mix by class)

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0015'
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


def downgrade() -> None:
    op.drop_table('annotation_class_pixels')
    op.drop_column('item', 'held_out_on_upload')
