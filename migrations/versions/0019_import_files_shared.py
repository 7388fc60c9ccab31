"""import files shared (issue 16): with object storage, a web import's folder is also kept in the
bucket as one archive, so a worker on any node can take the job (and take it over)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 07:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('files_sha256', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('files_sha256')
