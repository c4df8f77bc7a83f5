"""Remember when each user was last connected ("last seen" in the UI)."""
import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    migrate(migrator.add_column("users", "last_seen_at", peewee.DateTimeField(null=True)))
