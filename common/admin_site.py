"""The Django admin, for superusers only.

Staff status alone (CSRs, supervisors and back-office admins may carry it) opens nothing here:
their work goes through the services behind the console and back office, which check their
role and audit every change. Signing in happens at the site's one door (allauth, with MFA),
never through the admin's own password form.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


class SuperuserAdminSite(AdminSite):
    site_header = "TeleCRM administration (superusers)"
    site_title = "TeleCRM administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Anonymous visitors sign in at the site's sign-in page and come back; a signed-in
        user who is not a superuser is refused; a superuser goes on."""
        index = reverse("admin:index", current_app=self.name)
        wanted = request.GET.get("next") or index
        if not url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            wanted = index
        if not request.user.is_authenticated:
            return redirect_to_login(wanted)
        if not self.has_permission(request):
            raise PermissionDenied("The Django admin is for superusers only.")
        return HttpResponseRedirect(wanted)
