"""held uploads (issue 13): a checked scan kept for its uploader while the form is corrected

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-10 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'held_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('original_name', sa.String(length=255), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('page_count', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('document_sha256', sa.String(length=64), nullable=False),
        sa.Column('source_sha256', sa.String(length=64), nullable=True),
        sa.Column('source_media_type', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_held_uploads_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_held_uploads')),
        sa.UniqueConstraint('token', name=op.f('uq_held_uploads_token')),
    )
    with op.batch_alter_table('held_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_uploads_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_uploads_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('held_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_uploads_expires_at'))
        batch_op.drop_index(batch_op.f('ix_held_uploads_user_id'))
    op.drop_table('held_uploads')
