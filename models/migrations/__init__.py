"""Numbered schema migrations, applied in order at start-up.

Each module ``NNNN_name.py`` defines ``up(migrator, database)``; the models it
needs are frozen inside it, so later changes to ``models/`` never change what an
old migration does.  Applied names are kept in ``schema_migrations``.
"""
import functools
import importlib
import logging
import pkgutil

import peewee
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator

from models.clock import utcnow
from models.db import LOCK_STARTUP, db

logger = logging.getLogger(__name__)


class SchemaMigration(peewee.Model):
    name = peewee.CharField(max_length=100, primary_key=True)
    applied_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        database = db
        table_name = "schema_migrations"


def available():
    """The migration names shipped with this code, in order."""
    return list(_shipped())


@functools.lru_cache(maxsize=1)
def _shipped():
    """Read once: the files do not change while the process runs."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name[:4].isdigit()]
    return tuple(sorted(names))


def applied():
    if not db.table_exists("schema_migrations"):
        return []
    return [m.name for m in SchemaMigration.select().order_by(SchemaMigration.name)]


def migrate(target=None):
    """Apply every pending migration (up to ``target``); return the names applied."""
    database = db.obj
    is_pg = isinstance(database, peewee.PostgresqlDatabase)
    migrator = PostgresqlMigrator(database) if is_pg else SqliteMigrator(database)
    done = []
    with db.connection_context():
        if is_pg:
            db.execute_sql("SELECT pg_advisory_lock(%s)", (LOCK_STARTUP,))
        try:
            db.create_tables([SchemaMigration], safe=True)
            already = set(applied())
            for name in available():
                if target is not None and name > target:
                    break
                if name in already:
                    continue
                module = importlib.import_module(f"{__name__}.{name}")
                with db.atomic():
                    module.up(migrator, database)
                    SchemaMigration.create(name=name)
                logger.info("Applied migration %s", name)
                done.append(name)
        finally:
            if is_pg:
                db.execute_sql("SELECT pg_advisory_unlock(%s)", (LOCK_STARTUP,))
    return done
