"""Hypothesis profiles, chosen with HYPOTHESIS_PROFILE or --hypothesis-profile.

dev (default locally): quick, random seeds, failures saved to .hypothesis/ and replayed.
ci (default when $CI is set): fixed example count, derandomised, no database: every run of a
    commit draws the same examples.
thorough (nox -s property): many examples, for finding bugs rather than guarding them.
mutants (nox -s mutants): dev's size, derandomised, so every mutant meets the same examples.
debug: dev, printing every example.
Every profile has no deadline (tests assert behaviour, never time) and prints the blob that
reproduces a failure.
"""

import os

from hypothesis import HealthCheck, Verbosity, settings

COMMON = {"deadline": None, "print_blob": True, "suppress_health_check": [HealthCheck.too_slow]}

settings.register_profile("dev", max_examples=60, **COMMON)
settings.register_profile("ci", max_examples=200, derandomize=True, database=None, **COMMON)
settings.register_profile("thorough", max_examples=3000, **COMMON)
settings.register_profile("mutants", max_examples=60, derandomize=True, database=None, **COMMON)
settings.register_profile("debug", max_examples=60, verbosity=Verbosity.verbose, **COMMON)
settings.load_profile(os.getenv("HYPOTHESIS_PROFILE", "ci" if os.getenv("CI") else "dev"))
