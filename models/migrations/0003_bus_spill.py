"""Overflow storage for inter-process events larger than a PostgreSQL NOTIFY payload."""
import peewee


def up(migrator, database):
    class BusSpill(peewee.Model):
        payload = peewee.TextField()
        created_at = peewee.DateTimeField(index=True)

        class Meta:
            database = migrator.database
            table_name = "bus_spill"

    migrator.database.create_tables([BusSpill])
