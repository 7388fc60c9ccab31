"""hand-over slips (issue 13): the PDF of claim codes made when a batch is published

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('handover_slips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slip_count', sa.Integer(), nullable=False),
    sa.Column('result_codes', sa.JSON(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_handover_slips_created_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_handover_slips_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_slips'))
    )
    with op.batch_alter_table('handover_slips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_slips_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_slips_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('handover_slips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_slips_expires_at'))
        batch_op.drop_index(batch_op.f('ix_handover_slips_created_by_id'))
    op.drop_table('handover_slips')
