"""Small helpers shared by the tests."""
import time


class WaitTimeout(AssertionError):
    pass


def wait_until(predicate, timeout=10.0, interval=0.02, message=None):
    """Poll `predicate` until it returns a truthy value; return that value.

    Raises WaitTimeout (an AssertionError) after `timeout` seconds. Exceptions raised by
    the predicate propagate (so a failing check is reported as such)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(message or f"condition not met within {timeout}s: {predicate!r}")
        time.sleep(interval)


def wait_for_value(fn, expected, timeout=10.0, interval=0.02):
    """Poll fn() until it equals `expected`; return the last value (assert-friendly)."""
    last = [None]

    def check():
        last[0] = fn()
        return last[0] == expected

    try:
        wait_until(check, timeout, interval)
    except WaitTimeout:
        raise WaitTimeout(f"value did not become {expected!r} within {timeout}s; last={last[0]!r}")
    return last[0]
