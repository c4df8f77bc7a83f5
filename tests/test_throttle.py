"""The login throttle's window arithmetic, with a controllable clock."""
from handlers.throttle import LoginThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_window_opens_again_and_success_resets():
    clock = Clock()
    throttle = LoginThrottle(max_per_user=3, max_per_address=100, window_seconds=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("1.2.3.4", "bob") == 0
        throttle.failed("1.2.3.4", "bob")
    assert throttle.retry_after("1.2.3.4", "BOB") == 60
    clock.now += 30
    assert throttle.retry_after("5.6.7.8", "bob") == 30  # per username, whatever the address
    clock.now += 31
    assert throttle.retry_after("1.2.3.4", "bob") == 0
    throttle.failed("1.2.3.4", "bob")
    throttle.succeeded("bob")
    assert throttle.retry_after("1.2.3.4", "bob") == 0


def test_memory_is_swept():
    clock = Clock()
    throttle = LoginThrottle(3, 3, 10, clock=clock)
    throttle.MAX_KEYS = 50
    for i in range(100):
        throttle.failed(f"10.0.0.{i}", f"user{i}")
    clock.now += 11
    throttle.failed("9.9.9.9", "late")
    assert len(throttle._failures) == 2
