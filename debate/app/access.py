"""Who may use the coach controls: the password check and its rate limit.

Failed unlock attempts are counted per tab and per client address. After `free` failures
a key is locked out for a delay that doubles with every further failure (capped), so a
script cannot try passwords faster than that whether it opens new tabs or not. While a key
is locked out every attempt is refused without looking at the password, and the attempt
does not extend the lockout (a locked-out coach can wait it out). A success clears the
tab's count and the address's.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# How page events are exposed. Coach actions stay callable (the server checks the password
# on each) but undocumented; page plumbing (timers, refreshes) is not in the API at all.
COACH = {"api_visibility": "undocumented", "concurrency_limit": None}
PLUMBING = {"api_visibility": "private", "concurrency_limit": None}


@dataclass
class _Record:
    failures: int = 0
    until: float = 0.0  # monotonic time before which attempts are refused


class UnlockGuard:
    """Password checks with a lockout that grows with failures (thread-safe, in memory)."""

    def __init__(
        self,
        password: str,
        free: int = 5,
        base_delay: float = 4.0,
        max_delay: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._password = password.encode("utf-8", "surrogatepass")
        self.free, self.base_delay, self.max_delay = free, base_delay, max_delay
        self._clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait_left(self, keys: list[str]) -> float:
        """Seconds before these keys may try again (0 when they may)."""
        now = self._clock()
        with self._lock:
            return max([0.0] + [r.until - now for k in keys if (r := self._records.get(k))])

    def attempt(self, password: str, keys: list[str]) -> tuple[bool, float]:
        """(unlocked, seconds to wait before the next attempt). Refused without checking
        while any key is locked out."""
        now = self._clock()
        with self._lock:
            wait = max([0.0] + [r.until - now for k in keys if (r := self._records.get(k))])
            if wait > 0:
                return False, wait
            given = (password or "").encode("utf-8", "surrogatepass")
            if hmac.compare_digest(given, self._password):
                for k in keys:
                    self._records.pop(k, None)
                return True, 0.0
            for k in keys:
                rec = self._records.setdefault(k, _Record())
                rec.failures += 1
                over = rec.failures - self.free
                if over >= 0:
                    delay = min(self.base_delay * 2**over, self.max_delay)
                    rec.until = now + delay
                    wait = max(wait, delay)
            if len(self._records) > 10_000:  # forget the oldest keys, not the locked ones
                for k in [k for k, r in self._records.items() if r.until < now][:5_000]:
                    del self._records[k]
            return False, wait
