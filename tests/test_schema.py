"""The schema is made only by migrations, and the models agree with them."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db
from portal.search.postgresql import not_the_search_table


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": not_the_search_table})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
