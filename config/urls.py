from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from billing.usage import backoffice as usage_backoffice
from common import signin
from common import views as common_views
from common.api import not_found as api_not_found

urlpatterns = [
    path("", common_views.home, name="home"),
    path("healthz", common_views.healthz, name="healthz"),
    # allauth's sign-in, answering 429 with Retry-After when throttled (common.signin).
    path("accounts/login/", signin.sign_in, name="account_login"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("backoffice/catalog/", include("orders.catalog.urls")),
    path("backoffice/inventory/", include("orders.inventory.urls")),
    path("backoffice/partners/", include("partners.backoffice")),
    path("backoffice/tariffs/", include("billing.rating.urls")),
    path("backoffice/usage/", include("billing.usage.urls")),
    path("backoffice/rerating/", include((usage_backoffice.rerating_urlpatterns, "rerating"))),
    path(
        "backoffice/usage-reconciliation/",
        include((usage_backoffice.reconciliation_urlpatterns, "reconciliation")),
    ),
    path("", include("crm.urls")),
    path("partner/", include("partners.urls")),
    path("my/", include("selfcare.urls")),
    path("billing/", include("billing.urls")),
    path("console/orders/", include("orders.urls")),
    path("tickets/", include("tickets.urls")),
    path("api/v1/catalog/", include("orders.catalog.api_urls")),
    path("api/v1/orders/", include("orders.api_urls")),
    path("api/v1/", include("billing.rating.api_urls")),
    path("api/v1/usage/", include("billing.usage.api_urls")),
    path("api/v1/charging/", include("billing.charging.api_urls")),
    path("api/v1/", include("crm.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script is served by the same view (?script), not inline: the CSP.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # Anything else under /api/ answers the JSON 404 (never a redirect to add a slash).
    re_path(r"^api/", api_not_found),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
