"""the transfer register (issue 18 item 4): every package of a unit's results of a year written for
the current archive. Procedures' retention periods need no change: procedures.retention_years has
been there since 0001 (NULL: permanent), and existing rows keep what they hold.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 10:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'archive_transfers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('package_name', sa.String(length=255), nullable=False),
        sa.Column('result_count', sa.Integer(), nullable=False),
        sa.Column('file_count', sa.Integer(), nullable=False),
        sa.Column('not_pdfa_count', sa.Integer(), nullable=False),
        sa.Column('payload_oxum', sa.String(length=64), nullable=False),
        sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
        sa.Column('made_by', sa.String(length=255), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_archive_transfers_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_transfers')),
    )
    with op.batch_alter_table('archive_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_transfers_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_transfers_made_at'), ['made_at'], unique=False)


def downgrade():
    with op.batch_alter_table('archive_transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_transfers_made_at'))
        batch_op.drop_index(batch_op.f('ix_archive_transfers_unit_id'))
    op.drop_table('archive_transfers')
