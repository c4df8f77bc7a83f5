"""Each user's chosen language ("en", "ru"); NULL until they choose, and the browser's language decides."""
import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    migrate(migrator.add_column("users", "locale", peewee.CharField(max_length=8, null=True)))
