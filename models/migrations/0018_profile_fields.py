"""Profile email and time zone (issue 21): both NULL for every existing user (nothing is guessed).

An email belongs to one account, ignoring case: a unique index on its lower-case form (NULLs do not clash).
"""


def up(migrator, database):
    database.execute_sql("ALTER TABLE users ADD COLUMN email VARCHAR(254)")
    database.execute_sql("ALTER TABLE users ADD COLUMN timezone VARCHAR(64)")
    database.execute_sql("CREATE UNIQUE INDEX users_email_lower ON users (LOWER(email))")
