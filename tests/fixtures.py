"""Personas and shared fixtures, loaded for every test as a pytest plugin (see pyproject).

Loaded before Django is set up, so project imports happen inside the fixtures.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

# Tests render templates without running collectstatic first.
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)


def _redis_database_per_worker() -> None:
    """Under pytest-xdist each worker gets a Redis database of its own: clearing the cache
    (FLUSHDB) in one worker must not wipe another worker's sign-in throttling counters."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("REDIS_URL", "")
    if not worker.startswith("gw") or not url:
        return
    base, _, database = url.rpartition("/")
    if not database.isdigit():  # redis://host:6379 names no database: it is 0
        base, database = url.rstrip("/"), "0"
    os.environ["REDIS_URL"] = f"{base}/{int(database) + 1 + int(worker[2:]) % 15}"


_redis_database_per_worker()


def _f() -> Any:
    from crm.tests import factories

    return factories


@pytest.fixture
def csr(db: None) -> Any:
    return _f().UserFactory(
        email="csr@example.com", first_name="Casey", last_name="Rep", role=_f().Role.CSR
    )


@pytest.fixture
def supervisor(db: None) -> Any:
    return _f().UserFactory(email="supervisor@example.com", role=_f().Role.SUPERVISOR)


@pytest.fixture
def admin(db: None) -> Any:
    return _f().UserFactory(email="admin@example.com", is_staff=True, role=_f().Role.ADMIN)


@pytest.fixture
def partner_a(db: None) -> Any:
    return _f().PartnerFactory(code="alpha", name="Alpha Phones")


@pytest.fixture
def partner_b(db: None) -> Any:
    return _f().PartnerFactory(code="bravo", name="Bravo Mobile")


@pytest.fixture
def reseller_a(partner_a: Any) -> Any:
    return _f().PartnerUserFactory(partner=partner_a, user__email="reseller-a@example.com").user


@pytest.fixture
def reseller_b(partner_b: Any) -> Any:
    return _f().PartnerUserFactory(partner=partner_b, user__email="reseller-b@example.com").user


@pytest.fixture
def subscriber(db: None) -> Any:
    """The self-care login of `customer`."""
    return _f().UserFactory(email="subscriber@example.com", role=_f().Role.SUBSCRIBER)


@pytest.fixture
def other_subscriber(db: None) -> Any:
    user = _f().UserFactory(email="other-subscriber@example.com", role=_f().Role.SUBSCRIBER)
    _f().CustomerFactory(owner=user, first_name="Olive", last_name="Other")
    return user


@pytest.fixture
def customer(subscriber: Any, partner_a: Any) -> Any:
    """A customer sold by partner A whose self-care login is `subscriber`."""
    return _f().CustomerFactory(
        owner=subscriber,
        partner=partner_a,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.org",
    )


@pytest.fixture
def line(customer: Any) -> Any:
    """An active line of `customer`: +44 7400 123456."""
    return _f().SubscriberFactory(
        account__customer=customer, msisdn="+447400123456", status="active"
    )


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    """Sign-in throttling lives in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's deliberate slowness buys nothing in tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_make_parametrize_id(config: Any, val: object, argname: str) -> str | None:
    """Sets have no stable order across processes; give them a sorted id so pytest-xdist's
    workers collect the same test ids."""
    if isinstance(val, set | frozenset):
        return "{" + ", ".join(sorted(repr(item) for item in val)) + "}"
    return None


@pytest.fixture(autouse=True)
def _two_factor_gate_off(settings: Any) -> None:
    """Most tests sign staff in with force_login and no authenticator app, which the two-factor
    gate would stop at its door; tests of the gate turn it on (tests/test_two_factor.py)."""
    settings.MFA_REQUIRED_ROLES = []
