"""Fixtures: the web platform's and the demo cluster (real scoring, ledger, protection)."""

import pytest
from sqlmodel import select

from tests.platform.conftest import app, client, logged_in, settings  # noqa: F401
from trellis.accounts.models import User
from trellis.demo.seed import seed_demo


@pytest.fixture
def demo(session):
    seed_demo(session=session, n_vendors=40)
    return {u.email.split("@")[0]: u for u in session.exec(select(User).where(
        User.email.like("%@trellis.demo")))}
