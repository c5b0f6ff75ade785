"""Hypothesis profiles and example budgets: `ci` (the default) and `long` (local fuzzing).

Pick one with HYPOTHESIS_PROFILE (README "Development"); tests/conftest.py loads it.

- ci: derandomized (the same examples on every run and every machine), no database, no
  deadline (a slow example on a loaded 2-core machine is not a failure; pytest-timeout
  still ends a hang), each test's own bounded number of examples.
- long: random examples, each test's budget times LONG, no per-test timeout.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
LONG = 50  # how many times a test's CI budget the long profile tries

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    deadline=None,
    max_examples=100 * LONG,
    suppress_health_check=[HealthCheck.too_slow],
)
if PROFILE not in ("ci", "long"):
    raise ValueError(f"HYPOTHESIS_PROFILE={PROFILE!r}: the profiles are 'ci' and 'long'")
settings.load_profile(PROFILE)


def examples(ci: int) -> int:
    """A test's number of examples: `ci` under the ci profile, LONG times that under long."""
    return ci * LONG if PROFILE == "long" else ci
