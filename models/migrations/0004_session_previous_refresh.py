"""Keep the refresh token a session had just before it rotated, for a short grace period.

Two browser tabs that refresh at the same moment both present the old token;
the later one must not log the user out.
"""
import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    migrate(
        migrator.add_column("sessions", "previous_refresh_hash", peewee.CharField(max_length=64, null=True, index=True)),
        migrator.add_column("sessions", "rotated_at", peewee.DateTimeField(null=True)),
    )
