"""API keys for machine clients (mediation, network elements): issue, revoke, authenticate.

Each key has its own machine user holding exactly the permissions the key was given, so the
same permission checks and scoping as for people apply, and every change it makes is audited
under the key's name. Only a SHA-256 of the secret is stored; the key is shown once. Issuing
and revoking are audited (common.audit) with who did it; the audit row never holds the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from common.audit import audit_record
from common.errors import ApplicationError
from common.models import ApiKey
from common.permissions import CommonPerm
from common.roles import api_key_grantable, permissions_from_names

if TYPE_CHECKING:
    from common.types import Actor, UserLike

KEY_PREFIX_LENGTH = 8
LAST_USED_PRECISION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_issue(*, actor: UserLike, name: str, permissions: list[str]) -> tuple[ApiKey, str]:
    """Issue a key limited to `permissions`; returns the key row and the secret (shown once)."""
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Name the system that will use this key."]
    elif ApiKey.objects.filter(name=name, revoked_at__isnull=True).exists():
        errors["name"] = ["An active key already has this name."]
    grantable = set(api_key_grantable())
    if not permissions:
        errors["permissions"] = ["Give the key at least one permission."]
    elif unknown := set(permissions) - grantable:
        errors["permissions"] = [f"Not grantable to a key: {', '.join(sorted(unknown))}."]
    if errors:
        raise ApplicationError("The key was not issued.", fields=errors)
    prefix = secrets.token_hex(KEY_PREFIX_LENGTH // 2)
    secret = f"{prefix}.{secrets.token_urlsafe(32)}"
    machine = get_user_model().objects.create_user(  # type: ignore[attr-defined]
        email=f"api-key-{prefix}@machine.invalid",
        password=None,
        first_name=name[:150],
        last_name="(API key)",
        is_machine=True,
    )
    machine.user_permissions.set(permissions_from_names(sorted(set(permissions))))
    key = ApiKey.objects.create(
        name=name, prefix=prefix, key_hash=_hash(secret), user=machine, created_by=actor
    )
    audit_record(
        actor=actor,
        instance=key,
        action="issued",
        changes={
            "name": [None, name],
            "prefix": [None, prefix],
            "permissions": [None, sorted(set(permissions))],
        },
    )
    return key, secret


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: UserLike) -> ApiKey:
    """Revoke at once: the next request with this key is refused."""
    updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    if updated != 1:
        raise ApplicationError("This key was already revoked.", code="already_revoked")
    get_user_model().objects.filter(pk=api_key.user_id).update(is_active=False)
    api_key.refresh_from_db()
    audit_record(
        actor=actor, instance=api_key, action="revoked", changes={"status": ["active", "revoked"]}
    )
    return api_key


def api_key_qs_for(actor: Actor) -> QuerySet[ApiKey]:
    """Every key for those who manage keys (newest first, active before revoked), else none."""
    if not actor.has_perm(CommonPerm.MANAGE_API_KEYS):
        return ApiKey.objects.none()
    return (
        ApiKey.objects.select_related("created_by", "revoked_by", "user")
        .prefetch_related("user__user_permissions__content_type")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-pk")
    )


def api_key_get_for(actor: Actor, public_id: UUID | str) -> ApiKey:
    return get_object_or_404(api_key_qs_for(actor), public_id=public_id)


def api_key_authenticate(secret: str) -> ApiKey | None:
    prefix = secret.split(".", 1)[0]
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(secret)):
        return None
    if key.revoked_at is not None or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>` or `X-Api-Key: <key>`."""

    keyword = "Api-Key"

    @classmethod
    def secret_of(cls, request: HttpRequest | Request) -> str:
        """The key a request carries, or "" when it carries none (then the session decides)."""
        header = str(request.META.get("HTTP_AUTHORIZATION", ""))
        if header.startswith(f"{cls.keyword} "):
            return header[len(cls.keyword) + 1 :].strip()
        return str(request.META.get("HTTP_X_API_KEY", "")).strip()

    def authenticate(self, request: Request) -> tuple[UserLike, ApiKey] | None:
        secret = self.secret_of(request)
        if not secret:
            return None
        key = api_key_authenticate(secret)
        if key is None:
            raise exceptions.AuthenticationFailed("The API key is not valid or was revoked.")
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
