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
from models.db import is_sqlite
from models.messages import Message, message_dict, with_files
from models.users import User

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


def _matches(words):
    if is_sqlite():
        phrase = " ".join(f'"{w}"' for w in words)  # \w+ words hold no quote: each is one literal token
        return Message.id.in_(peewee.SQL("(SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)", [phrase]))
    return peewee.Expression(peewee.SQL("search"), "@@", peewee.fn.plainto_tsquery("simple", " ".join(words)))


def search(user_id, q, chat_id=None, limit=20):
    """``{"results": [{"message", "highlight"}]}``, newest first, from the chats ``user_id`` is in."""
    words = query_words(q)
    if chat_id is not None:
        require_membership(user_id, chat_id)
    if not words:
        return {"results": []}
    mine = Membership.select(Membership.chat).where(Membership.user == user_id)
    query = (Message.select(Message, User).join(User)
             .where(Message.chat.in_(mine) & Message.deleted_at.is_null() & _matches(words)))
    if chat_id is not None:
        query = query.where(Message.chat == chat_id)
    rows = list(query.order_by(Message.id.desc()).limit(max(1, min(limit, MAX_LIMIT))))
    found = with_files([message_dict(m) for m in rows])
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
