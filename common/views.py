from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from common.roles import frontends_for


def home(request: HttpRequest) -> HttpResponse:
    """Send each signed-in person to their own front end."""
    if not request.user.is_authenticated:
        return redirect("account_login")
    allowed = frontends_for(request.user)
    if len(allowed) == 1:
        return redirect(allowed[0].url_name)
    return render(request, "home.html", {"frontends": allowed}, status=200 if allowed else 403)


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
