"""requests to correct (issue 18): a holder's request that a field of a result be corrected, with its
due dates in working days and each step's time and actor

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 10:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'correction_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('result_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('holder_id', sa.String(length=16), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=32), nullable=False),
        sa.Column('shown_value', sa.Text(), nullable=False),
        sa.Column('requested_value', sa.Text(), nullable=False),
        sa.Column('attachment_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('acknowledge_due', sa.Date(), nullable=False),
        sa.Column('answer_due', sa.Date(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('refusal_reason', sa.Text(), nullable=True),
        sa.Column('replacement_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('received', 'acknowledged', 'corrected', 'refused')",
                           name=op.f('ck_correction_requests_status')),
        sa.ForeignKeyConstraint(['result_id'], ['results.id'], name=op.f('fk_correction_requests_result_id_results')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_correction_requests_unit_id_units')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_correction_requests_requested_by_id_users')),
        sa.ForeignKeyConstraint(['attachment_id'], ['stored_files.id'],
                                name=op.f('fk_correction_requests_attachment_id_stored_files')),
        sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'],
                                name=op.f('fk_correction_requests_acknowledged_by_id_users')),
        sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'],
                                name=op.f('fk_correction_requests_answered_by_id_users')),
        sa.ForeignKeyConstraint(['replacement_id'], ['results.id'],
                                name=op.f('fk_correction_requests_replacement_id_results')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_requests')),
    )
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_requests_result_id'), ['result_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_requests_status'))
        batch_op.drop_index(batch_op.f('ix_correction_requests_holder_id'))
        batch_op.drop_index(batch_op.f('ix_correction_requests_unit_id'))
        batch_op.drop_index(batch_op.f('ix_correction_requests_result_id'))
    op.drop_table('correction_requests')
