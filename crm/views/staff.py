"""The staff page: the operator's people with their role and whether their two-factor sign-in
is set up, and the reset of it when a phone is lost or replaced. A CSR supervisor reaches it
from the console for their CSRs, an admin from the back office for every other staff member
(common.mfa.staff_qs_for says who may reset whom)."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from common import mfa
from common.errors import ApplicationError
from common.forms import service_errors_to_form
from common.permissions import CommonPerm
from common.roles import BACKOFFICE, CONSOLE

REASON_REQUIRED = "Say why the two-factor sign-in is reset."


class TwoFactorResetForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How you made sure it is them, e.g. “Phone lost; identity confirmed by a "
        "call to their desk”. Kept in the audit log.",
        error_messages={"required": REASON_REQUIRED},
    )


def _base_template(request: HttpRequest) -> str | None:
    """The front end the page shows in, or None for those who may reset nobody's."""
    user = request.user
    if not any(user.has_perm(p) for p in mfa.RESET_PERMISSIONS):
        return None
    in_backoffice = user.has_perm(BACKOFFICE.permission)
    request.frontend = BACKOFFICE if in_backoffice else CONSOLE  # type: ignore[attr-defined]
    return "base_backoffice.html" if in_backoffice else "base_console.html"


def _guard(request: HttpRequest) -> str | HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    base_template = _base_template(request)
    if base_template is None:
        raise PermissionDenied("Your role may not reset anyone's two-factor sign-in.")
    return base_template


@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    base_template = _guard(request)
    if isinstance(base_template, HttpResponse):
        return base_template
    people = [(person, mfa.staff_roles_of(person)) for person in mfa.staff_qs_for(request.user)]
    context = {
        "people": people,
        "base_template": base_template,
        "all_staff": request.user.has_perm(CommonPerm.RESET_STAFF_TWO_FACTOR),
    }
    return render(request, "crm/backoffice/staff_list.html", context)


@require_http_methods(["GET", "POST"])
def staff_two_factor_reset(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """GET asks for the reason and confirmation; POST resets and returns to the list."""
    base_template = _guard(request)
    if isinstance(base_template, HttpResponse):
        return base_template
    person = mfa.staff_get_for(request.user, public_id)
    form = TwoFactorResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mfa.staff_two_factor_reset(
                actor=request.user, user=person, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(
                request,
                f"The two-factor sign-in of {person} was reset. They sign in with their "
                "password and set up a new authenticator app before anything else.",
            )
            return redirect("crm:staff-list")
    context = {
        "person": person,
        "roles": mfa.staff_roles_of(person),
        "form": form,
        "base_template": base_template,
    }
    return render(request, "crm/backoffice/staff_two_factor_reset.html", context)
