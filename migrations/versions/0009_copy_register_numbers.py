"""copy register numbers (issue 12, item 19)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('copy_number_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_copy_number_counters'))
    )
    op.create_table('copy_number_reservations',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('held_by', sa.String(length=32), nullable=True),
    sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number > 0', name=op.f('ck_copy_number_reservations_positive_number')),
    sa.PrimaryKeyConstraint('year', 'number', name=op.f('pk_copy_number_reservations'))
    )
    # Each year's counter starts where the register stands.
    op.execute("INSERT INTO copy_number_counters (year, last_number) "
               "SELECT year, MAX(number) FROM certified_copies GROUP BY year")


def downgrade():
    op.drop_table('copy_number_reservations')
    op.drop_table('copy_number_counters')
