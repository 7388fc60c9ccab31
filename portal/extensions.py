"""Flask extensions, created once and bound to the app in the factory. (Flask-Migrate is set up
in the factory: Alembic is slow to import, and processes without migrations import this.)"""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints so that Alembic can alter them on PostgreSQL and SQLite alike.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


@event.listens_for(Engine, "connect")
def _sqlite_write_ahead_log(dbapi_connection, _record) -> None:
    """SQLite in write-ahead-log mode: readers no longer block the writer (and the writer no longer
    waits for readers to leave, sleeping in the busy handler), and a commit is one fsync of the log
    instead of the journal's and the database's. Synchronous stays FULL: an answered commit is on disk.
    Two gunicorn workers pushing at once: 58 → 81 pushes/s (docs/BENCHMARKS.md, bench/api.py)."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file; a no-op once set (":memory:" stays "memory")
    cursor.close()


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
