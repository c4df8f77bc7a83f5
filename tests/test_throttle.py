"""The in-memory login throttle's window arithmetic and the send rate bucket, with a controllable clock."""
from handlers.throttle import LoginThrottle, RateLimiter


def run(coro):
    """The in-memory limiters' coroutines never wait: run one to its end without an event loop
    (one may already be running in this thread, e.g. Playwright's)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the in-memory limiter waited for something")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_window_opens_again_and_success_resets():
    clock = Clock()
    throttle = LoginThrottle(max_per_user=3, max_per_address=100, window_seconds=60, clock=clock)
    for _ in range(3):
        assert run(throttle.retry_after("1.2.3.4", "bob")) == 0
        run(throttle.failed("1.2.3.4", "bob"))
    assert run(throttle.retry_after("1.2.3.4", " BOB\t")) == 60  # one spelling of the name, as login has
    clock.now += 30
    assert run(throttle.retry_after("5.6.7.8", "bob")) == 30  # per username, whatever the address
    clock.now += 31
    assert run(throttle.retry_after("1.2.3.4", "bob")) == 0
    run(throttle.failed("1.2.3.4", "bob"))
    run(throttle.succeeded("Bob "))
    assert run(throttle.retry_after("1.2.3.4", "bob")) == 0


def test_memory_is_swept():
    clock = Clock()
    throttle = LoginThrottle(3, 3, 10, clock=clock)
    throttle.MAX_KEYS = 50
    for i in range(100):
        run(throttle.failed(f"10.0.0.{i}", f"user{i}"))
    clock.now += 11
    run(throttle.failed("9.9.9.9", "late"))
    assert len(throttle._failures) == 2


def test_send_rate_limiter_allows_bursts_then_the_average_rate():
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [run(limiter.retry_after(7)) for _ in range(3)] == [0, 0, 0]
    assert run(limiter.retry_after(7)) == 1 and run(limiter.retry_after(8)) == 0  # per user
    clock.now += 0.5
    assert run(limiter.retry_after(7)) == 0  # one more token after half a second at 2/s
    assert run(limiter.retry_after(7)) >= 1
    run(RateLimiter(rate=0, burst=1).check(7))  # off: never raises
