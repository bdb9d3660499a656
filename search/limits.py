"""The cost budget of one search: limits on fuzzy and wildcard terms, and a wall-clock budget.

Every limit is a setting with a default here and an environment variable for `csrnews serve`
(and any WSGI server running `csrnews.serve.wsgi:app_from_env()`); docs/operations.md lists them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields

logger = logging.getLogger(__name__)

# Defaults (the environment variable of each is CSRNEWS_SEARCH_ + its name).
BUDGET = 0.5  # seconds of wall-clock time one search may use before it answers what it has
MAX_EXPANDING_TERMS = 8  # fuzzy, wildcard, prefix and range terms in one query
MAX_EXPANSIONS = 20  # index terms one such term may expand to, per field
MAX_TOTAL_EXPANSIONS = 400  # index terms all of them may expand to together
FUZZY_MAX_LENGTH = 24  # a longer word with ~ is searched as it is (no fuzzy matching)
FUZZY_DISTANCE_1 = 3  # words of at least this many characters may be 1 edit away
FUZZY_DISTANCE_2 = 6  # ... and of at least this many, 2 edits (never more)
WILDCARD_MAX_LENGTH = 32  # a longer pattern with * or ? is refused
WILDCARD_MAX_STARS = 4  # * and ? in one pattern, at most
EXPENSIVE_CONCURRENCY = 2  # searches with fuzzy or wildcard terms run at once, per process
RETRY_AFTER = 2  # seconds a 503 (too many such searches waiting) asks the client to wait


class BudgetExceeded(RuntimeError):
    """The search could not start within its budget (too many expensive searches at once)."""

    def __init__(self, message: str, retry_after: int = RETRY_AFTER) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class QueryLimits:
    """The limits of one search service; ``from_env`` reads CSRNEWS_SEARCH_<NAME> overrides."""

    budget: float = BUDGET
    max_expanding_terms: int = MAX_EXPANDING_TERMS
    max_expansions: int = MAX_EXPANSIONS
    max_total_expansions: int = MAX_TOTAL_EXPANSIONS
    fuzzy_max_length: int = FUZZY_MAX_LENGTH
    fuzzy_distance_1: int = FUZZY_DISTANCE_1
    fuzzy_distance_2: int = FUZZY_DISTANCE_2
    wildcard_max_length: int = WILDCARD_MAX_LENGTH
    wildcard_max_stars: int = WILDCARD_MAX_STARS
    expensive_concurrency: int = EXPENSIVE_CONCURRENCY
    retry_after: int = RETRY_AFTER

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> QueryLimits:
        """Defaults, overridden by CSRNEWS_SEARCH_BUDGET, CSRNEWS_SEARCH_MAX_EXPANSIONS, ...

        ``env`` is the environment the caller read (the CLI or a WSGI entry point passes
        ``os.environ``; nothing below them reads it). A value that is not a number (or is
        negative) is ignored with a warning.
        """
        values: dict[str, float | int] = {}
        for item in fields(cls):
            name = f"CSRNEWS_SEARCH_{item.name.upper()}"
            raw = env.get(name, "").strip()
            if not raw:
                continue
            try:
                value: float | int = float(raw) if item.type == "float" else int(raw)
            except ValueError:
                value = -1
            if value < 0:
                logger.warning("%s=%r is not a number >= 0; using the default", name, raw)
                continue
            values[item.name] = value
        return cls(**values)  # type: ignore[arg-type]

    def fuzzy_distance(self, word: str, asked: int) -> int:
        """The edit distance a fuzzy word may have: by its length, never more than asked."""
        if len(word) > self.fuzzy_max_length:
            return 0
        allowed = 2 if len(word) >= self.fuzzy_distance_2 else 1
        if len(word) < self.fuzzy_distance_1:
            allowed = 0
        return max(0, min(asked, allowed))


class Budget:
    """One search's clock and expansion allowance."""

    def __init__(self, limits: QueryLimits, started: float | None = None) -> None:
        self.limits = limits
        self.started = time.monotonic() if started is None else started
        self.deadline = self.started + limits.budget if limits.budget > 0 else float("inf")
        self.expansions_left = limits.max_total_expansions
        self.cut = False  # something was left out to stay within the budget

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


class ExpensiveGate:
    """At most N expensive searches at once per process; the others wait, then get a 503."""

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits
        size = limits.expensive_concurrency
        self._slots = threading.BoundedSemaphore(size) if size > 0 else None

    def enter(self, budget: Budget) -> bool:
        """Take a slot within the budget's time; False when none came free."""
        if self._slots is None:
            return True
        return self._slots.acquire(timeout=budget.left())

    def leave(self) -> None:
        if self._slots is not None:
            self._slots.release()
