"""Failed-login throttling and the per-user rates of sends, reactions and uploads, in memory or shared
through PostgreSQL.

One process (SQLite) keeps the counts in memory.  Several processes on one
PostgreSQL database keep them in the database (``models/limits.py``), so a
limit holds for the whole deployment, not once per process.  Both kinds have
the same rules and the same awaitable methods.
"""
import collections
import math
import time

from models import limits
from models.db import db_call
from models.errors import AppError
from models.i18n import NP_
from models.users import normalise_username

MAX_KEY_NAME = 64  # longer usernames cannot exist; cutting them keeps the keys small


class LoginRules:
    """Failed logins allowed per client address and per username within a sliding window."""

    def __init__(self, max_per_user, max_per_address, window_seconds):
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.window = window_seconds
        self.failures_total = 0  # failed logins this process answered since start (for /metrics)

    def limits(self, address, username):
        """``[(key, allowed failures)]``; the username key uses the spelling login looks users up by."""
        return [(f"addr:{address}", self.max_per_address), (self.user_key(username), self.max_per_user)]

    @staticmethod
    def user_key(username):
        return "user:" + normalise_username(username).replace("\x00", "")[:MAX_KEY_NAME]  # PostgreSQL text has no NUL


class LoginThrottle(LoginRules):
    """In memory, for one process."""

    MAX_KEYS = 100_000  # beyond this, expired entries are swept so memory stays bounded

    def __init__(self, max_per_user, max_per_address, window_seconds, clock=time.monotonic):
        super().__init__(max_per_user, max_per_address, window_seconds)
        self.clock = clock
        self._failures = collections.defaultdict(collections.deque)

    async def retry_after(self, address, username):
        """Seconds until another attempt is allowed (0 when allowed now)."""
        now = self.clock()
        return max(self._wait(key, limit, now) for key, limit in self.limits(address, username))

    async def failed(self, address, username):
        now = self.clock()
        self.failures_total += 1
        if len(self._failures) > self.MAX_KEYS:
            self._sweep(now)
        for key, _ in self.limits(address, username):
            self._failures[key].append(now)

    async def succeeded(self, username):
        self._failures.pop(self.user_key(username), None)

    def _sweep(self, now):
        for key in [k for k, times in self._failures.items() if not times or times[-1] <= now - self.window]:
            del self._failures[key]

    def _wait(self, key, limit, now):
        times = self._failures.get(key)
        if not times:
            return 0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0
        if len(times) < limit:
            return 0
        return max(1, math.ceil(times[0] + self.window - now))


class SharedLoginThrottle(LoginRules):
    """The same rules with the failures stored in PostgreSQL, seen by every process."""

    async def retry_after(self, address, username):
        return await db_call(limits.login_wait, self.limits(address, username), self.window)

    async def failed(self, address, username):
        self.failures_total += 1
        await db_call(limits.record_login_failure, [key for key, _ in self.limits(address, username)], self.window)

    async def succeeded(self, username):
        await db_call(limits.clear_login_failures, self.user_key(username))


def sending_too_fast(wait):
    return NP_("Sending too fast. Try again in %(num)d second.", "Sending too fast. Try again in %(num)d seconds.",
               wait)


def uploading_too_fast(wait):
    return NP_("Uploading too fast. Try again in %(num)d second.", "Uploading too fast. Try again in %(num)d seconds.",
               wait)


def reacting_too_fast(wait):
    return NP_("Changing reactions too fast. Try again in %(num)d second.",
               "Changing reactions too fast. Try again in %(num)d seconds.", wait)


class RateLimiter:
    """A token bucket per user, in memory: ``rate`` actions a second on average, bursts up to ``burst``.

    A rate of 0 turns it off.  ``refusal(wait)``: the message of the 429.
    """

    def __init__(self, rate, burst, refusal=sending_too_fast, clock=time.monotonic):
        self.rate = rate
        self.burst = max(burst, 1)
        self.refusal = refusal
        self.clock = clock
        self._buckets = {}  # user id -> (tokens, last refill)

    async def retry_after(self, user_id):
        """Take one action for ``user_id``; 0 when allowed, else seconds until one is."""
        now = self.clock()
        tokens, last = self._buckets.get(user_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[user_id] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))
        self._buckets[user_id] = (tokens - 1, now)
        return 0

    async def check(self, user_id):
        """Take one action, or raise ``rate_limited`` (REST answers 429, the WebSocket an error frame)."""
        wait = await self.retry_after(user_id) if self.rate else 0
        if wait:
            raise AppError(429, "rate_limited", self.refusal(wait), retry_after=wait)


class SharedRateLimiter(RateLimiter):
    """The same bucket kept in PostgreSQL (as a theoretical arrival time) in ``table``, shared by every process."""

    def __init__(self, rate, burst, refusal=sending_too_fast, table="send_buckets"):
        super().__init__(rate, burst, refusal)
        self.table = table

    async def retry_after(self, user_id):
        return await db_call(limits.take_token, self.table, user_id, self.rate, self.burst)


Limiters = collections.namedtuple("Limiters", "login send reaction upload")


def make_limiters(config, shared):
    """The login throttle and the rate limiters: in the database when several processes may share them."""
    rules = (config["login_max_failures"], config["login_max_failures_per_address"], config["login_window"])
    rates = {"send": (config["message_rate"], config["message_burst"], sending_too_fast),
             "reaction": (config["reaction_rate"], config["reaction_burst"], reacting_too_fast),
             "upload": (config["upload_rate"], config["upload_burst"], uploading_too_fast)}
    if shared:
        return Limiters(SharedLoginThrottle(*rules), **{kind: SharedRateLimiter(*rate, table=f"{kind}_buckets")
                                                         for kind, rate in rates.items()})
    return Limiters(LoginThrottle(*rules), **{kind: RateLimiter(*rate) for kind, rate in rates.items()})
