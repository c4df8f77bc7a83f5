"""What new WebSockets need before ``connected``, for many sockets in a few queries.

After a restart every client comes back within seconds.  Checking each
socket's session and loading its chats one by one cost two queries per socket
on the one SQLite thread; :func:`admit_sockets` answers a whole batch with
two queries whatever its size (see ``handlers/realtime/batching.py``).
"""
from models.memberships import Membership
from models.users import PERSON_COLUMNS, Session, User, person_dict, session_refusal, unknown_session


def admit_sockets(requests):
    """For each ``(claims,)`` of a decoded access token, in order: ``(user, chat ids, peer ids)``, or an ``AppError``
    saying why the token no longer admits anyone (the checks and reasons of ``users.resolve_session``)."""
    person = [getattr(User, column) for column in PERSON_COLUMNS[1:]]  # the id is the session's user
    sessions = {row.id: row for row in (
        Session.select(Session.id, Session.user, Session.revoked_at, User.locale, *person)
        .join(User).where(Session.id.in_({claims["sid"] for claims, in requests})).namedtuples())}
    users = {row.user: {**person_dict(row.user, *(getattr(row, column) for column in PERSON_COLUMNS[1:])),
                        "locale": row.locale} for row in sessions.values()}
    chats_of, members_of = _memberships(list(users))
    answers = []
    for claims, in requests:
        session = sessions.get(claims["sid"])
        if session is None or str(session.user) != claims["sub"]:
            answers.append(unknown_session())
        elif refusal := session_refusal(session.is_active, session.revoked_at):
            answers.append(refusal)
        else:
            chat_ids = sorted(chats_of.get(session.user, ()))
            peers = {peer for chat_id in chat_ids for peer in members_of[chat_id]} - {session.user}
            answers.append(({**users[session.user], "session_id": session.id}, chat_ids, sorted(peers)))
    return answers


def _memberships(user_ids):
    """``({user_id: chat ids}, {chat_id: member ids})`` covering every chat of ``user_ids``, in two queries."""
    chats_of, members_of = {}, {}
    if not user_ids:
        return chats_of, members_of
    theirs = Membership.select(Membership.chat).where(Membership.user.in_(user_ids))
    for chat_id, user_id in Membership.select(Membership.chat, Membership.user).where(Membership.chat.in_(theirs)).tuples():
        members_of.setdefault(chat_id, []).append(user_id)
    for chat_id, members in members_of.items():
        for user_id in members:
            chats_of.setdefault(user_id, []).append(chat_id)
    return chats_of, members_of
