"""Full-text search over message text, kept in step with every write by the database itself.

SQLite: an FTS5 index (unicode61 tokenizer, diacritics removed: Russian and
English alike) over ``messages``, maintained by triggers, so an insert, edit or
delete changes the index in the same transaction.  PostgreSQL: a generated
``tsvector`` column with the ``simple`` configuration (whole words, lower case,
no stemming, any language) and a GIN index.
"""
import peewee

SQLITE = [
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
         text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
         INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, deleted_at ON messages BEGIN
         INSERT INTO messages_fts(messages_fts, rowid, text)
           SELECT 'delete', old.id, old.text WHERE old.deleted_at IS NULL;
         INSERT INTO messages_fts(rowid, text) SELECT new.id, new.text WHERE new.deleted_at IS NULL;
       END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.deleted_at IS NULL BEGIN
         INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
       END""",
    "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE deleted_at IS NULL",
]

POSTGRESQL = [
    "ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED",
    "CREATE INDEX messages_search ON messages USING gin (search)",
]


def up(migrator, database):
    statements = SQLITE if isinstance(database, peewee.SqliteDatabase) else POSTGRESQL
    for statement in statements:
        database.execute_sql(statement)
