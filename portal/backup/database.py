"""The database's part of a backup: a consistent snapshot into one file, and loading it back.

SQLite through its online backup API (a consistent copy while the portal runs); PostgreSQL
through pg_dump's custom format and pg_restore, run without a shell, the password handed over in
a private passfile (never on a command line), and only when their major version is the server's.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from .errors import BackupError

SQLITE, POSTGRESQL = "sqlite", "postgresql"
MEMBER = {SQLITE: "database.sqlite3", POSTGRESQL: "database.pgdump"}


def backend_of(engine: Engine) -> str:
    name = engine.url.get_backend_name()
    if name not in MEMBER:
        raise BackupError(f"Chưa hỗ trợ sao lưu cơ sở dữ liệu loại {name}.")
    return name


def alembic_revision(engine: Engine) -> str | None:
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


def tables(engine: Engine) -> list[str]:
    """What the database already holds (tables, views, sequences): restore fills only an empty one."""
    if backend_of(engine) == SQLITE:
        return inspect(engine).get_table_names()
    with engine.connect() as conn:
        return list(conn.scalars(text(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname <> 'information_schema' "
            "AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1")))


def snapshot(engine: Engine, target: Path) -> dict:
    """Write the database as it is now into `target`; what the manifest says about it."""
    backend = backend_of(engine)
    facts = {"backend": backend, "alembic_revision": alembic_revision(engine)}
    if backend == SQLITE:
        _sqlite_copy(sqlite3.connect(_sqlite_path(engine)), target)
        return facts
    tool, version = _pg_tool(engine, "pg_dump")
    _run_pg(engine, [tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"])
    return {**facts, "pg_dump_version": version}


def load(engine: Engine, source: Path) -> None:
    """Fill the (empty) database from a snapshot made by `snapshot` on the same kind of database."""
    backend = backend_of(engine)
    engine.dispose()  # no pooled connection of ours stays open on what is about to be replaced
    if backend == SQLITE:
        target = Path(_sqlite_path(engine))
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(sqlite3.connect(source), target)
        return
    tool, _version = _pg_tool(engine, "pg_restore")
    # One transaction: a restore that fails leaves the database as empty as it found it.
    _run_pg(engine, [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(source)])


def check_tools(engine: Engine) -> None:
    """Before anything is written: the PostgreSQL client programs are there and match the server."""
    if backend_of(engine) == POSTGRESQL:
        _pg_tool(engine, "pg_restore")


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu hay khôi phục được.")
    return path


def _sqlite_copy(source: sqlite3.Connection, target: Path) -> None:
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()


# --- PostgreSQL's client programs ----------------------------------------------------------------

def _pg_tool(engine: Engine, name: str) -> tuple[str, str]:
    """The program's path and version, refused unless its major version is the server's."""
    from flask import current_app

    folder = current_app.config.get("PG_BIN_DIR")
    tool = str(Path(folder) / name) if folder else shutil.which(name)
    if not tool or not Path(tool).is_file():
        raise BackupError(f"Không tìm thấy {name}: cài gói postgresql-client hoặc đặt PORTAL_PG_BIN_DIR.")
    answer = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=30, check=False)
    match = re.search(r"\(PostgreSQL\) (\d+)(\.\d+)?", answer.stdout)
    if answer.returncode != 0 or not match:
        raise BackupError(f"{tool} --version không trả lời như mong đợi: {answer.stdout or answer.stderr}".strip())
    with engine.connect() as conn:
        server = int(conn.scalar(text("SHOW server_version_num"))) // 10000
    if int(match.group(1)) != server:
        raise BackupError(f"{name} là bản {match.group(1)} nhưng máy chủ PostgreSQL là bản {server}: cài "
                          f"postgresql-client-{server} hoặc đặt PORTAL_PG_BIN_DIR=/usr/lib/postgresql/{server}/bin.")
    return tool, match.group(0).split(" ", 1)[1]


def _run_pg(engine: Engine, command: list[str]) -> None:
    with _pg_connection(engine) as (dbname, env):
        done = subprocess.run([*command[:1], "--no-password", f"--dbname={dbname}", *command[1:]],
                              env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} thất bại (mã {done.returncode}): {done.stderr.strip()[-2000:]}")


@contextmanager
def _pg_connection(engine: Engine):
    """A libpq URI without the password, and an environment whose private passfile holds it."""
    url = engine.url
    dbname = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {key: value for key, value in os.environ.items() if key != "PGPASSWORD"}
    with tempfile.TemporaryDirectory(prefix="portal-pg-") as folder:
        if url.password is not None:
            passfile = Path(folder) / "pgpass"
            escaped = str(url.password).replace("\\", "\\\\").replace(":", "\\:")
            fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"*:*:*:*:{escaped}\n")
            env["PGPASSFILE"] = str(passfile)
        yield dbname, env
