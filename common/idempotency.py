"""`Idempotency-Key` on write APIs: a retried request replays the first response, never redoes
the write (a mediation system that timed out may safely send the same request again)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from common.models import IdempotencyRecord
from common.types import UserLike

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 80
# Visible ASCII only: what every HTTP stack carries unchanged (a UUID fits).
KEY_PATTERN = rf"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_reused"


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent_call(
    *, user: UserLike, key: str, request: Request, call: Callable[[], Response]
) -> Response:
    """Run `call` once per (user, key). A concurrent retry waits on the first one's row lock and
    then replays what it stored; a failed call stores nothing, so it may be retried."""
    if not re.fullmatch(KEY_PATTERN, key):
        raise exceptions.ValidationError(
            {HEADER: [f"Use 1 to {MAX_KEY_LENGTH} visible ASCII characters, e.g. a UUID."]}
        )
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=0,
                    created_at=timezone.now(),
                )
        except IntegrityError:
            stored = IdempotencyRecord.objects.get(user=user, key=key)
            if stored.fingerprint != fingerprint:
                raise IdempotencyKeyReused() from None
            return Response(
                stored.response_body, status=stored.status_code, headers={REPLAYED_HEADER: "true"}
            )
        response = call()
        if response.status_code >= 400:
            transaction.set_rollback(True)  # not stored: the client may correct and retry
            return response
        record.status_code = response.status_code
        record.response_body = response.data
        record.save(update_fields=["status_code", "response_body"])
        return response


Handler = TypeVar("Handler", bound=Callable[..., Response])


def idempotent(handler: Handler) -> Handler:
    """Decorate a write API method: honours the Idempotency-Key header when one is sent."""

    @wraps(handler)
    def wrapped(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        return idempotent_call(
            user=request.user,  # type: ignore[arg-type]  # writes need an authenticated user
            key=key,
            request=request,
            call=lambda: handler(view, request, *args, **kwargs),
        )

    return wrapped  # type: ignore[return-value]


def idempotency_records_purge(*, older_than: timedelta | None = None) -> int:
    """Forget keys past their retention; a retry after that is a new request."""
    age = older_than or timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - age).delete()
    return deleted


def schema_add_idempotency_header(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: document the header on every write operation."""
    parameter = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "pattern": KEY_PATTERN, "example": "4b1f1c5e-0d0b-4a53"},
        "description": "Send the same key when retrying: the first response is replayed "
        f"(with `{REPLAYED_HEADER}: true`) and nothing is written twice. Keys are kept "
        f"{settings.IDEMPOTENCY_KEY_HOURS} hours per caller.",
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method in ("post", "put", "patch"):
                operation.setdefault("parameters", []).append(parameter)
    return result
