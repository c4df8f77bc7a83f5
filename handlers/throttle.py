"""Throttles kept in memory: failed logins per address and username, and message sends per user."""
import collections
import math
import time

from models.errors import AppError


class LoginThrottle:
    def __init__(self, max_per_user, max_per_address, window_seconds, clock=time.monotonic):
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.window = window_seconds
        self.clock = clock
        self._failures = collections.defaultdict(collections.deque)
        self.failures_total = 0  # every failed login since start (for /metrics)

    def retry_after(self, address, username):
        """Seconds until another attempt is allowed (0 when allowed now)."""
        now = self.clock()
        waits = [self._wait(("addr", address), self.max_per_address, now),
                 self._wait(("user", (username or "").lower()), self.max_per_user, now)]
        return max(waits)

    MAX_KEYS = 100_000  # beyond this, expired entries are swept so memory stays bounded

    def failed(self, address, username):
        now = self.clock()
        self.failures_total += 1
        if len(self._failures) > self.MAX_KEYS:
            self._sweep(now)
        for key in (("addr", address), ("user", (username or "").lower())):
            self._failures[key].append(now)

    def succeeded(self, username):
        self._failures.pop(("user", (username or "").lower()), None)

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


class SendRateLimiter:
    """A token bucket per user: ``rate`` messages a second on average, bursts up to ``burst``.

    A rate of 0 turns it off.
    """

    def __init__(self, rate, burst, clock=time.monotonic):
        self.rate = rate
        self.burst = max(burst, 1)
        self.clock = clock
        self._buckets = {}  # user id -> (tokens, last refill)

    def retry_after(self, user_id):
        """Take one send for ``user_id``; 0 when allowed, else seconds until one is."""
        if not self.rate:
            return 0
        now = self.clock()
        tokens, last = self._buckets.get(user_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[user_id] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))
        self._buckets[user_id] = (tokens - 1, now)
        return 0

    def check(self, user_id):
        """Take one send, or raise ``rate_limited`` (REST answers 429, the WebSocket an error frame)."""
        wait = self.retry_after(user_id)
        if wait:
            raise AppError(429, "rate_limited", f"Sending too fast. Try again in {wait} s.", retry_after=wait)
