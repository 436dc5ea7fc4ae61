"""django.contrib.admin's app, with common.admin_site.SuperuserAdminSite as `admin.site`.

A module of its own: INSTALLED_APPS imports it before the app registry is ready, so it imports
nothing that needs models (the site itself does).
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class SuperuserAdminConfig(AdminConfig):
    default_site = "common.admin_site.SuperuserAdminSite"
