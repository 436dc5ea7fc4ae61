from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from common.roles import frontends_for


def frontend(request: HttpRequest) -> dict[str, Any]:
    return {
        "operator_name": settings.OPERATOR_NAME,
        "current_frontend": getattr(request, "frontend", None),
        "my_frontends": frontends_for(request.user) if hasattr(request, "user") else [],
    }
