"""Fixtures of the demo tests: small simulations, computed once per test session."""

from __future__ import annotations

from datetime import date

import pytest

from trellis.demo.simulator import simulate

END = date(2026, 6, 30)
SMALL = {"n_vendors": 60, "months": 18, "seed": 7, "end": END}


@pytest.fixture(scope="session")
def small():
    """The small cluster most tests look at (60 vendors, 18 months to 2026-06-30)."""
    return simulate(**SMALL)


@pytest.fixture(scope="session")
def medium():
    """A default-sized cluster with another seed and end, for the statistical checks."""
    return simulate(n_vendors=300, months=18, seed=11, end=date(2026, 11, 30))
