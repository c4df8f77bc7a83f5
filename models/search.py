"""Full-text search in the caller's chats (index: migration 0009).

Queries are reduced to their words before they reach the database, so quotes,
operators, ``*`` or emoji can never form search syntax: each word must occur
whole (case and, on SQLite, diacritics ignored), all of them in one message.
"""
import html
import re
import unicodedata

import peewee

from models.memberships import Membership, require_membership
from models.db import db, is_sqlite
from models.messages import Message, message_dicts, rows_by_id

MAX_QUERY = 256
MAX_WORDS = 16
MAX_LIMIT = 100
SNIPPET = 240
_WORD = re.compile(r"\w+")


def fold(word):
    """Lower case without diacritics, as the SQLite tokenizer compares words."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_words(q):
    return list(dict.fromkeys(_WORD.findall(q[:MAX_QUERY].casefold())))[:MAX_WORDS]


# SQLite: the FTS index is the outer loop, walked newest first, so the search stops at ``limit``
# hits instead of collecting every message with a common word.
_SQLITE_IDS = """SELECT m.id FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
                 WHERE messages_fts MATCH ? AND m.deleted_at IS NULL
                   AND m.chat_id IN (SELECT chat_id FROM memberships WHERE user_id = ?) {chat}
                 ORDER BY messages_fts.rowid DESC LIMIT ?"""


def _found_ids(user_id, words, chat_id, limit):
    if is_sqlite():
        phrase = " ".join(f'"{w}"' for w in words)  # \w+ words hold no quote: each is one literal token
        sql = _SQLITE_IDS.format(chat="AND m.chat_id = ?" if chat_id is not None else "")
        params = [phrase, user_id, *([chat_id] if chat_id is not None else []), limit]
        return [row[0] for row in db.execute_sql(sql, params)]
    mine = Membership.select(Membership.chat).where(Membership.user == user_id)
    matches = peewee.Expression(peewee.SQL("search"), "@@", peewee.fn.plainto_tsquery("simple", " ".join(words)))
    query = Message.select(Message.id).where(Message.chat.in_(mine) & Message.deleted_at.is_null() & matches)
    if chat_id is not None:
        query = query.where(Message.chat == chat_id)
    return [m.id for m in query.order_by(Message.id.desc()).limit(limit)]


def search(user_id, q, chat_id=None, limit=20):
    """``{"results": [{"message", "highlight"}]}``, newest first, from the chats ``user_id`` is in."""
    words = query_words(q)
    if chat_id is not None:
        require_membership(user_id, chat_id)
    if not words:
        return {"results": []}
    ids = _found_ids(user_id, words, chat_id, max(1, min(limit, MAX_LIMIT)))
    found = message_dicts(rows_by_id(ids, newest_first=True))
    return {"results": [{"message": m, "highlight": highlight(m["text"], words)} for m in found]}


def highlight(text, words):
    """An excerpt of ``text`` (HTML-escaped) with the matched words in ``<mark>…</mark>``."""
    terms = {fold(w) for w in words}
    spans = [m.span() for m in _WORD.finditer(text) if fold(m.group()) in terms]
    start = max(0, spans[0][0] - SNIPPET // 4) if spans and len(text) > SNIPPET else 0
    end = min(len(text), start + SNIPPET)
    out, cursor = ["…" if start else ""], start
    for a, b in spans:
        if a < start or b > end:
            continue
        out += [html.escape(text[cursor:a]), "<mark>", html.escape(text[a:b]), "</mark>"]
        cursor = b
    out += [html.escape(text[cursor:end]), "…" if end < len(text) else ""]
    return "".join(out)
