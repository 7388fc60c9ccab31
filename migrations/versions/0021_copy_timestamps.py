"""copies that verify for decades (issue 17): the register records a copy's signature timestamp
and its authority, whether it carries its validation data (B-LT), when its last document
timestamp needs renewing (B-LTA), and the files a renewal superseded

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 09:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certified_copies') as batch:
        batch.add_column(sa.Column('timestamped_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('timestamp_authority', sa.String(255), nullable=True))
        batch.add_column(sa.Column('long_term', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('archive_timestamp_until', sa.DateTime(timezone=True), nullable=True))
        batch.create_index('ix_certified_copies_archive_timestamp_until', ['archive_timestamp_until'])
    op.create_table(
        'certified_copy_files',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('copy_id', sa.Integer(), sa.ForeignKey('certified_copies.id'), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_certified_copy_files_copy_id', 'certified_copy_files', ['copy_id'])
    op.create_index('ix_certified_copy_files_sha256', 'certified_copy_files', ['sha256'])


def downgrade():
    op.drop_table('certified_copy_files')
    with op.batch_alter_table('certified_copies') as batch:
        batch.drop_index('ix_certified_copies_archive_timestamp_until')
        batch.drop_column('archive_timestamp_until')
        batch.drop_column('long_term')
        batch.drop_column('timestamp_authority')
        batch.drop_column('timestamped_at')
