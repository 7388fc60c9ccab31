"""import attempts (issue 16): a web import job that keeps killing its process is given up after
its runs, not taken over forever

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('attempts')
