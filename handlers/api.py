"""REST endpoints under /api/: parse, check, call the domain, publish, answer."""
import asyncio
import logging

from handlers import close_reasons as closing, i18n
from handlers.base import SESSION_COOKIE, ApiHandler, BaseHandler, session_cookie
from handlers.realtime import events
from models import channels, chats, disk_space, memberships, messages, pins, profiles, search, users
from models.db import DatabaseUnavailable, db_call, is_sqlite, ping, run_blocking
from models.errors import AppError
from models.i18n import N_

logger = logging.getLogger(__name__)


class HealthHandler(ApiHandler):
    auth_required = False

    async def get(self):
        state = self.state
        body = {"status": "ok", "db": "ok", "version": state.version,
                "database": "sqlite" if is_sqlite() else "postgresql",
                "connections": state.hub.connection_count()}
        disk_full = disk_space.problem(self.config)
        body["disk"] = "full" if disk_full else "ok"
        try:
            await asyncio.wait_for(db_call(ping), timeout=5)
        except (DatabaseUnavailable, asyncio.TimeoutError) as exc:
            body.update(status="error", db="error", detail=str(exc) or "database did not answer in 5 s")
            return self.send_json(body, 503)
        if disk_full:
            body.update(status="error", detail="disk full: " + disk_full)
            return self.send_json(body, 503)
        self.send_json(body)


class LoginHandler(ApiHandler):
    auth_required = False

    async def post(self):
        body = self.json_body()
        username = self.field(body, "username", str)
        password = self.field(body, "password", str)
        self.send_json(await self.log_in(username, password))


class RefreshHandler(ApiHandler):
    """Trade a refresh token (JSON body, or the browser session cookie plus XSRF header) for new tokens."""
    auth_required = False

    async def post(self):
        body = self.json_body(required=False)
        token = self.field(body, "refresh_token", str, required=False)
        from_cookie = token is None
        if from_cookie:
            BaseHandler.check_xsrf_cookie(self)
            token = session_cookie(self) or ""
        session = await db_call(users.rotate_session, token, self.config["refresh_token_ttl"])
        payload = self.token_payload(session)
        if from_cookie or payload["refresh_token"] is None:
            # Cookie mode keeps the refresh token in the HttpOnly cookie, out of reach of page scripts;
            # a token used again within the rotation grace leaves the current one in place.
            refresh = payload.pop("refresh_token")
            payload.pop("refresh_expires_in")
            if from_cookie and refresh is not None:
                self.set_session_cookie(session["session_id"], refresh)
        self.send_json(payload)


class LogoutHandler(ApiHandler):
    async def post(self):
        session_id = self.current_user["session_id"]
        await db_call(users.revoke_session, session_id)
        events.close_session(self.state.bus, session_id)
        self.clear_cookie(SESSION_COOKIE)
        self.send_json({"status": "logged_out"})


class MeHandler(ApiHandler):
    async def get(self):
        self.send_json(self.current_user)

    async def patch(self):
        """The caller's language (``"en"``, ``"ru"``, or null to follow the browser again) and profile
        (display name, status text and emoji, email, time zone); peers sharing a chat hear of a profile change."""
        body = self.json_body()
        profile = {name: self.field(body, name, str) for name in profiles.PROFILE_FIELDS if name in body}
        profile.update({name: body[name] for name in profiles.CLEARABLE_FIELDS if name in body})
        if "locale" not in body and not profile:
            fields = ("locale",) + profiles.PROFILE_FIELDS + profiles.CLEARABLE_FIELDS
            raise AppError(422, "missing_field", N_("Send at least one of: %(fields)s", fields=", ".join(fields)),
                           field="locale")
        me = self.current_user["id"]
        users.check_locale(body.get("locale"))  # before anything is saved: all or nothing
        if profile:
            user, chat_ids = await db_call(profiles.update_profile, me, profile)
            events.user_updated(self.state.bus, user, chat_ids)
            self.current_user.update(user)
        if "locale" in body:
            locale = body["locale"]
            await db_call(users.set_locale, me, locale)
            events.locale_changed(self.state.bus, me, locale)
            self.current_user["locale"] = locale
            self.locale = i18n.for_request(self, self.current_user)
        self.send_json(self.current_user)


class UsersHandler(ApiHandler):
    async def get(self):
        query = self.get_query_argument("q", "")[:64]
        limit = self.query_int("limit", 20, minimum=1)
        found = await db_call(users.search_users, query, min(limit, 100))
        hub = self.state.hub
        self.send_json({"users": [{**u, "online": hub.is_online(u["id"])} for u in found]})


class AdminUsersHandler(ApiHandler):
    async def get(self):
        self.require_admin()
        self.send_json({"users": await db_call(users.list_all_users)})

    async def post(self):
        self.require_admin()
        body = self.json_body()
        username = users.validate_username(self.field(body, "username", str))
        password = users.validate_password(self.field(body, "password", str))
        display_name = self.field(body, "display_name", str, required=False)
        is_admin = self.field(body, "is_admin", bool, required=False, default=False)
        email = users.clean_email(body.get("email"))
        password_hash = await run_blocking(users.hash_password, password)
        created, joined = await db_call(channels.create_account, username, password_hash, display_name, is_admin,
                                        email)
        for chat in joined:
            events.members_added(self.state.bus, chat, [created["id"]])
        logger.info("Admin %s created user %s", self.current_user["id"], created["id"])
        self.send_json(created, 201)


class AdminUserHandler(ApiHandler):
    async def patch(self, user_id):
        self.require_admin()
        user_id = self.path_id(user_id)
        body = self.json_body()
        display_name = self.field(body, "display_name", str, required=False)
        is_admin = self.field(body, "is_admin", bool, required=False)
        is_active = self.field(body, "is_active", bool, required=False)
        if user_id == self.current_user["id"] and (is_active is False or is_admin is False):
            raise AppError(422, "cannot_demote_self", N_("You cannot deactivate or demote your own account"))
        result = await db_call(users.update_user, user_id, display_name, is_admin)
        if display_name is not None:
            events.user_updated(self.state.bus, result, await db_call(memberships.chat_ids_for_user, user_id))
        if is_active is not None:
            result = await db_call(users.set_active, user_id, is_active)
            if not is_active:
                events.close_user(self.state.bus, user_id)
                logger.info("Admin %s deactivated user %s", self.current_user["id"], user_id)
        self.send_json(result)


class AdminPasswordHandler(ApiHandler):
    async def post(self, user_id):
        self.require_admin()
        password = users.validate_password(self.field(self.json_body(), "password", str))
        password_hash = await run_blocking(users.hash_password, password)
        user_id = self.path_id(user_id)
        result = await db_call(users.set_password, user_id, password_hash)
        events.close_user(self.state.bus, user_id, closing.PASSWORD_RESET)
        self.send_json(result)


def with_presence(hub, chat):
    return {**chat, "members": [{**m, "online": hub.is_online(m["id"])} for m in chat["members"]]}


class ChatsHandler(ApiHandler):
    async def get(self):
        found = await db_call(chats.list_chats, self.current_user["id"])
        self.send_json([with_presence(self.state.hub, c) for c in found])

    async def post(self):
        body = self.json_body()
        kind = self.field(body, "type", str)
        me, per_hour = self.current_user["id"], self.config["chats_per_hour"]
        if kind == "direct":
            chat, created = await db_call(chats.create_direct_chat, me, self.field(body, "user_id", int), per_hour)
        elif kind == "group":
            member_ids = self.field(body, "member_ids", list, required=False, default=[])
            visibility = self.field(body, "visibility", str, required=False, default="private")
            topic = self.field(body, "topic", str, required=False, default="")
            chat = await db_call(chats.create_group_chat, me, self.field(body, "title", str), member_ids, per_hour,
                                 visibility, topic)
            created = True
        else:
            raise AppError(422, "invalid_field", N_("type must be 'direct' or 'group'"), field="type")
        if created:
            events.chat_created(self.state.bus, chat)
        self.send_json(with_presence(self.state.hub, chat), 201 if created else 200)


class ChatHandler(ApiHandler):
    async def get(self, chat_id):
        chat = await db_call(chats.get_chat, self.current_user["id"], self.path_id(chat_id))
        self.send_json(with_presence(self.state.hub, chat))

    async def patch(self, chat_id):
        """Shared settings of a group (title, topic, visibility, default, archived) and/or ``muted``, the
        caller's own."""
        body = self.json_body()
        kinds = {"title": str, "topic": str, "visibility": str, "default": bool, "archived": bool}
        settings = {name: self.field(body, name, kind) for name, kind in kinds.items() if body.get(name) is not None}
        muted = self.field(body, "muted", bool, required=False)
        if not settings and muted is None:
            raise AppError(422, "missing_field", N_("Send at least one of: %(fields)s",
                                                    fields="title, topic, visibility, default, archived, muted"),
                           field="title")
        me = self.current_user["id"]
        chat = await db_call(chats.update_chat, self.current_user, self.path_id(chat_id), settings, muted)
        if settings:
            events.chat_updated(self.state.bus, chat)
        if muted is not None:
            events.chat_muted(self.state.bus, me, chat["id"], muted)
        self.send_json(with_presence(self.state.hub, chat))


class MembersHandler(ApiHandler):
    async def post(self, chat_id):
        user_ids = self.field(self.json_body(), "user_ids", list)
        chat, added = await db_call(chats.add_members, self.current_user["id"], self.path_id(chat_id), user_ids)
        if added:
            events.members_added(self.state.bus, chat, added)
        self.send_json({"chat": with_presence(self.state.hub, chat), "added": added})


class MemberHandler(ApiHandler):
    async def patch(self, chat_id, user_id):
        """A member's ``role`` in a group: ``owner`` or ``member``."""
        chat_id, user_id = self.path_id(chat_id), self.path_id(user_id)
        role = self.field(self.json_body(), "role", str)
        chat, changed = await db_call(chats.set_member_role, self.current_user, chat_id, user_id, role)
        if changed:
            events.member_role(self.state.bus, chat_id, user_id, role)
        self.send_json(with_presence(self.state.hub, chat))

    async def delete(self, chat_id, user_id):
        chat_id, user_id = self.path_id(chat_id), self.path_id(user_id)
        remaining, new_owner = await db_call(chats.remove_member, self.current_user, chat_id, user_id)
        events.member_removed(self.state.bus, chat_id, user_id, remaining)
        if new_owner is not None:
            events.member_role(self.state.bus, chat_id, new_owner, "owner")
        self.send_json({"chat_id": chat_id, "removed": user_id})


class ChannelsHandler(ApiHandler):
    async def get(self):
        self.send_json(await db_call(channels.list_channels, self.current_user["id"], self.get_query_argument("q", "")))


class ChannelJoinHandler(ApiHandler):
    async def post(self, chat_id):
        chat, added = await db_call(channels.join_channel, self.current_user["id"], self.path_id(chat_id))
        if added:
            events.members_added(self.state.bus, chat, added)
        self.send_json(with_presence(self.state.hub, chat))


class MessagesHandler(ApiHandler):
    async def get(self, chat_id):
        before_id = self.query_int("before_id")
        after_id = self.query_int("after_id")
        if before_id is not None and after_id is not None:
            raise AppError(400, "invalid_query", N_("Use before_id or after_id, not both"))
        limit = self.query_int("limit", 50, minimum=1)
        page = await db_call(messages.history, self.current_user["id"], self.path_id(chat_id),
                             before_id, after_id, limit)
        self.send_json(page)

    async def post(self, chat_id):
        body = self.json_body()
        stored = await self.state.writer.send(self.current_user["id"], self.path_id(chat_id), body.get("text"),
                                              body.get("client_msg_id"), reply_to=body.get("reply_to"),
                                              file_ids=body.get("file_ids"))
        result = await stored
        if "error" in result:
            raise result["error"]
        self.send_json(result["message"], 201 if result["created"] else 200)


class ReadHandler(ApiHandler):
    async def post(self, chat_id):
        message_id = self.field(self.json_body(), "message_id", int)
        receipt = await db_call(messages.mark_read, self.current_user["id"], self.path_id(chat_id), message_id)
        events.read(self.state.bus, receipt)
        self.send_json(receipt)


class MessageHandler(ApiHandler):
    async def patch(self, message_id):
        text = self.json_body().get("text")
        message, member_ids = await db_call(messages.edit_message, self.current_user["id"], self.path_id(message_id), text)
        events.message_changed(self.state.bus, "message_updated", message, member_ids)
        self.send_json(message)

    async def delete(self, message_id):
        message, member_ids = await db_call(messages.delete_message, self.current_user["id"], self.path_id(message_id))
        events.message_changed(self.state.bus, "message_deleted", message, member_ids)
        self.send_json(message)


class ReactionHandler(ApiHandler):
    """PUT adds the caller's reaction, DELETE removes it; both idempotent, both answer the new list."""

    async def put(self, message_id, emoji):
        await self._react(message_id, emoji, True)

    async def delete(self, message_id, emoji):
        await self._react(message_id, emoji, False)

    async def _react(self, message_id, emoji, add):
        await self.state.reaction_limiter.check(self.current_user["id"])
        summary, change, member_ids = await db_call(messages.react, self.current_user["id"],
                                                    self.path_id(message_id), emoji, add)
        if change is not None:
            events.reactions(self.state.bus, summary, change, member_ids)
        self.send_json(summary)


class PinHandler(ApiHandler):
    """PUT pins a message, DELETE unpins it; any member, both idempotent, both answer the message."""

    async def put(self, message_id):
        await self._pin(message_id, True)

    async def delete(self, message_id):
        await self._pin(message_id, False)

    async def _pin(self, message_id, pinned):
        await self.state.reaction_limiter.check(self.current_user["id"])  # one bucket for reactions and pins
        message, change, member_ids = await db_call(pins.set_pinned, self.current_user["id"],
                                                    self.path_id(message_id), pinned)
        if member_ids:
            events.message_pinned(self.state.bus, change, member_ids)
        self.send_json(message)


class PinsHandler(ApiHandler):
    async def get(self, chat_id):
        self.send_json({"pins": await db_call(pins.pins, self.current_user["id"], self.path_id(chat_id))})


class UpdatesHandler(ApiHandler):
    """Catch-up after a reconnect: every message after ``after_id`` in all the caller's chats,
    and with ``changed_since`` the earlier ones edited or deleted since then."""

    async def get(self):
        after_id = self.query_int("after_id", 0)
        limit = self.query_int("limit", 500)
        changed_since = self.query_time("changed_since")
        self.send_json(await db_call(messages.catch_up, self.current_user["id"], after_id, min(limit, 1000),
                                     changed_since))


class SearchHandler(ApiHandler):
    async def get(self):
        q = self.get_query_argument("q", "")
        if not q.strip():
            raise AppError(400, "invalid_query", N_("Query parameter '%(name)s' is required", name="q"), field="q")
        chat_id = self.query_int("chat_id")
        limit = self.query_int("limit", 20, minimum=1)
        self.send_json(await db_call(search.search, self.current_user["id"], q, chat_id, limit))


class NotFoundHandler(ApiHandler):
    auth_required = False

    def prepare(self):
        raise AppError(404, "not_found", N_("No API endpoint at %(path)s", path=self.request.path))
