"""Sign-in glue: where each role lands, and the guard each front end's views use."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from common.http import client_ip
from common.roles import Frontend, landing_frontend


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created by staff, resellers and orders, not by open sign-up.
        return False

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        user = super().authenticate(request, **credentials)
        if user is not None and getattr(user, "is_machine", False):
            # An API key's machine identity never opens a page, even if someone gave it a
            # password; it is refused exactly like a wrong password.
            return None
        return user

    def get_client_ip(self, request: HttpRequest) -> str:
        # Sign-in throttling counts failures per address: the one address the project uses.
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address.")
        return address

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        frontend = landing_frontend(request.user)
        return reverse(frontend.url_name) if frontend else reverse("home")


def frontend_required(frontend: Frontend) -> Callable[..., Any]:
    """Let in only users whose role may open `frontend`; others get 403, anonymous sign in."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(frontend.permission):
                raise PermissionDenied(f"This page is for the {frontend.title}.")
            request.frontend = frontend  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require_perm(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied("Your role may not do this.")
