"""Logging plumbing shared by every front end and the API (wired in settings.LOGGING)."""

from __future__ import annotations

import logging

# Refusals the product gives on purpose: not signed in, not allowed, not found (or not yours),
# wrong method.
EXPECTED_REFUSAL_STATUSES = frozenset({401, 403, 404, 405})


class ExpectedRefusalFilter(logging.Filter):
    """Keep an expected refusal to its one line ("Forbidden (Permission denied): /console/").

    Django logs a view's PermissionDenied through `django.request` with the exception attached,
    so each refusal would write a full traceback that looks like a fault and buries the real
    ones. The record stays (it is worth a line: who is probing what); only the traceback goes.
    Server errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in EXPECTED_REFUSAL_STATUSES:
            record.exc_info = None
            record.exc_text = None
        return True
