"""Fixtures of the rating tests; the API personas come from the crm API tests."""

from __future__ import annotations

from crm.tests.api.conftest import api_as, issue_key, key_full, key_without  # noqa: F401
