"""copy register numbers (issue 12, item 19)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:40:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder: filled by the change that needs it, or removed


def downgrade():
    pass
