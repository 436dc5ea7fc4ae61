"""Production settings pass Django's deployment checks; a bad variable stops start-up loudly."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
# Variables a developer's shell or CI may set that would change what is being checked.
_CLEARED = {
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "HTTPS_ONLY",
    "ALLOWED_HOSTS",
    "SECURE_HSTS_SECONDS",
    "DB_CONN_MAX_AGE",
    "DJANGO_SETTINGS_MODULE",
    "TRUSTED_PROXY_COUNT",
    "MFA_REQUIRED_ROLES",
}


def manage(*args, **variables):
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_variables():
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return {
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "HTTPS_ONLY": "1",
        "ALLOWED_HOSTS": "crm.example.com",
        "DEBUG": "0",
    }


def test_production_settings_pass_the_deployment_checks():
    # when
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_variables())
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deployment_checks_fail_without_a_real_secret_key():
    # given: production, but SECRET_KEY forgotten (the development key is used)
    variables = production_variables()
    del variables["SECRET_KEY"]
    # when
    result = manage("check", "--deploy", "--fail-level", "WARNING", **variables)
    # then
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("DB_CONN_MAX_AGE", "abc", "DB_CONN_MAX_AGE must be an integer"),
        ("HTTPS_ONLY", "sometimes", "HTTPS_ONLY must be a boolean"),
        ("TRUSTED_PROXY_COUNT", "-1", "TRUSTED_PROXY_COUNT must be at least 0"),
        ("MFA_REQUIRED_ROLES", "csr,janitor", "MFA_REQUIRED_ROLES may list only admin, csr"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(name, value, message):
    # when
    result = manage("check", **{name: value})
    # then
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def settings_printed(*names, **variables):
    code = "from django.conf import settings as s; print(" + ", ".join(names) + ")"
    result = manage("shell", "--no-imports", "-c", code, **variables)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("variables", "expected"), [({}, "0 0 0"), ({"TRUSTED_PROXY_COUNT": "2"}, "2 2 2")]
)
def test_the_trusted_proxy_count_reaches_sign_in_and_api_throttling(variables, expected):
    # when
    printed = settings_printed(
        "s.TRUSTED_PROXY_COUNT",
        "s.ALLAUTH_TRUSTED_PROXY_COUNT",
        "s.REST_FRAMEWORK['NUM_PROXIES']",
        **variables,
    )
    # then
    assert printed == expected


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "['csr', 'supervisor', 'admin']"),  # staff, unless the operator says otherwise
        ({"MFA_REQUIRED_ROLES": ""}, "[]"),
        (
            {"MFA_REQUIRED_ROLES": "csr, Supervisor,ADMIN,reseller"},
            "['csr', 'supervisor', 'admin', 'reseller']",
        ),
    ],
)
def test_the_roles_that_need_two_factor_sign_in_come_from_the_environment(variables, expected):
    # when
    printed = settings_printed("s.MFA_REQUIRED_ROLES", **variables)
    # then
    assert printed == expected
