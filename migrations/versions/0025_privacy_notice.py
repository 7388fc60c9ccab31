"""the privacy notice (issue 18): which version of it each holder was shown, and when

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 10:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('privacy_notice_version', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('privacy_notice_seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('privacy_notice_seen_at')
        batch_op.drop_column('privacy_notice_version')
