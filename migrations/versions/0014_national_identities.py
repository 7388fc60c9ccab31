"""national identities (issue 14): accounts bound to VNeID persons, the assurance level and ID
token of a session opened through the provider, a password a holder may turn off

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-14 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'national_identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('person_number', sa.String(length=12), nullable=False),
        sa.Column('tax_code', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_national_identities_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_national_identities')),
        sa.UniqueConstraint('issuer', 'subject', 'tax_code', name='uq_national_identities_subject'),
    )
    with op.batch_alter_table('national_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_national_identities_person_number'), ['person_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_national_identities_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assurance_level', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('id_token', sa.Text(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_login', sa.Boolean(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_login')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('id_token')
        batch_op.drop_column('assurance_level')
    with op.batch_alter_table('national_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_national_identities_user_id'))
        batch_op.drop_index(batch_op.f('ix_national_identities_person_number'))
    op.drop_table('national_identities')
