"""Muting a chat is per member: a flag on the membership row (no notifications, no title count)."""
import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    migrate(migrator.add_column("memberships", "muted", peewee.BooleanField(default=False)))
