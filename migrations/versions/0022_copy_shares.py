"""share links (issue 17): a holder's link to one certified copy, its token kept as a SHA-256
only, and every opening of it

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 09:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'copy_shares',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('copy_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('recipient', sa.String(length=200), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['copy_id'], ['certified_copies.id'],
                                name=op.f('fk_copy_shares_copy_id_certified_copies')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_copy_shares_created_by_id_users')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_copy_shares_revoked_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_copy_shares')),
        sa.UniqueConstraint('token_sha256', name=op.f('uq_copy_shares_token_sha256')),
    )
    with op.batch_alter_table('copy_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_copy_shares_copy_id'), ['copy_id'], unique=False)
    op.create_table(
        'copy_share_uses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('share_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['share_id'], ['copy_shares.id'], name=op.f('fk_copy_share_uses_share_id_copy_shares')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_copy_share_uses')),
    )
    with op.batch_alter_table('copy_share_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_copy_share_uses_share_id'), ['share_id'], unique=False)


def downgrade():
    with op.batch_alter_table('copy_share_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_copy_share_uses_share_id'))
    op.drop_table('copy_share_uses')
    with op.batch_alter_table('copy_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_copy_shares_copy_id'))
    op.drop_table('copy_shares')
