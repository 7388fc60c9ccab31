"""job leases (issue 16): a web import job and a scan's recognition are held by a worker for a
lease it renews; another worker takes them over only once the lease has run out

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 06:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('leased_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('received_on', sa.String(length=120), nullable=True))
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ocr_attempts', sa.Integer(), server_default='0', nullable=False))
    # A job running when the portal was stopped for the upgrade: its old heartbeat is its lease.
    op.execute("UPDATE import_batches SET lease_until = heartbeat_at WHERE status = 'running'")


def downgrade():
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_column('ocr_attempts')
        batch_op.drop_column('ocr_lease_until')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('received_on')
        batch_op.drop_column('leased_by')
        batch_op.drop_column('lease_until')
