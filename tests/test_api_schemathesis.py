"""Schemathesis over the whole published API, as the outside review ran it: every operation of
/api/schema/, every check, every phase (examples, coverage, fuzzing, stateful), against a live
server holding the demo data, once as a client with every permission and once anonymously.
Any finding fails the test and prints schemathesis's report.

The project's schemathesis.toml says what "accepted" means here (422 for a business rule the
schema cannot express); path parameters are pinned to real objects so the operations reach
their logic instead of answering 404. SCHEMATHESIS_SEED picks another seed for an exploratory
run (the default is fixed so CI is repeatable); SCHEMATHESIS_MAX_EXAMPLES more examples.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.schemathesis]

ROOT = Path(__file__).resolve().parent.parent
ST = Path(sys.executable).with_name("st")


def _demo_objects(admin: Any) -> dict[str, tuple[str, str]]:
    """The demo data, and the path parameter (name, value) each operation works on."""
    from billing.usage.models import UsageBatch
    from crm.models import Account, Customer, Subscriber
    from orders.catalog.models import PricePlan
    from orders.placing import order_service_change_create

    call_command("demo_data", stdout=io.StringIO())
    active = list(Subscriber.objects.filter(status="active").order_by("pk")[:4])
    to_submit = order_service_change_create(
        actor=admin, channel="api", subscriber=active[2], type="suspend", reason="Schemathesis"
    )
    to_cancel = order_service_change_create(
        actor=admin, channel="api", subscriber=active[3], type="suspend", reason="Schemathesis"
    )
    customer = Customer.objects.order_by("pk")[0]
    account = Account.objects.order_by("pk")[0]
    plan = PricePlan.objects.filter(status="published").order_by("pk")[0]
    suspended = Subscriber.objects.filter(status="suspended")[0]
    pending = Subscriber.objects.filter(status="pending")[0]
    usage_batch = UsageBatch.objects.order_by("pk")[0]  # the demo's usage (demo_data)
    ids = {
        "customer_retrieve": customer.public_id,
        "customer_update": customer.public_id,
        "account_retrieve": account.public_id,
        "account_update": account.public_id,
        "subscriber_retrieve": active[0].public_id,
        "subscriber_usage_list": active[0].public_id,
        "subscriber_usage_totals": active[0].public_id,
        "subscriber_usage_csv": active[0].public_id,
        "catalog_subscriber_eligible_addon_list": active[0].public_id,
        "subscriber_suspend": active[0].public_id,
        "subscriber_terminate": active[1].public_id,
        "subscriber_resume": suspended.public_id,
        "subscriber_activate": pending.public_id,
        "catalog_plan_retrieve": plan.public_id,
        "order_retrieve": to_submit.public_id,
        "order_submit": to_submit.public_id,
        "order_cancel": to_cancel.public_id,
        "usage_batch_retrieve": usage_batch.public_id,
    }
    pinned = {operation: ("public_id", str(public_id)) for operation, public_id in ids.items()}
    # operations addressed by a readable code instead of a public_id
    pinned["tariff_retrieve"] = ("code", "postpaid-standard")
    pinned["tariff_partial_update"] = ("code", "postpaid-standard")
    return pinned


def _config(tmp_path: Path, ids: dict[str, tuple[str, str]]) -> Path:
    pinned = "".join(
        f'\n[[operations]]\ninclude-operation-id = "{operation}"\n'
        f'parameters = {{ "path.{name}" = "{value}" }}\n'
        for operation, (name, value) in ids.items()
    )
    config = tmp_path / "schemathesis.toml"
    config.write_text((ROOT / "schemathesis.toml").read_text() + pinned)
    return config


def _run(live_server: Any, tmp_path: Path, config: Path, *headers: str) -> None:
    # Django's test server writes an answer's headers and body in two packets; without
    # TCP_NODELAY (which accepted sockets inherit) each exchange waits out a delayed ACK.
    live_server.thread.httpd.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    command = [
        str(ST),
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/schema/",
        "--checks",
        "all",
        "--max-examples",
        os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30"),
        "--seed",
        os.environ.get("SCHEMATHESIS_SEED", "1"),
        "--no-color",
    ]
    for header in headers:
        command += ["-H", header]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=1200)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[report.find("FAILURES") :] or report


def test_schemathesis_finds_nothing_for_a_client_with_every_permission(
    live_server: Any, tmp_path: Path, admin: Any
):
    from billing.usage.services import usage_batch_ingest_records
    from common.api_keys import api_key_issue
    from common.roles import api_key_grantable

    # given
    ids = _demo_objects(admin)
    api_key, key = api_key_issue(
        actor=admin, name="Schemathesis", permissions=list(api_key_grantable())
    )
    # a key sees only the usage batches it sent: it sends one
    batch = usage_batch_ingest_records(
        records=[{"record_id": "st-1", "service": "sms", "calling_number": "+447400000001",
                  "called_number": "+447700900123", "started_at": "2026-01-05T10:00:00Z"}],
        source="schemathesis",
        actor=api_key.user,
    )  # fmt: skip
    ids["usage_batch_retrieve"] = ("public_id", str(batch.public_id))
    # when / then
    _run(live_server, tmp_path, _config(tmp_path, ids), f"Authorization: Api-Key {key}")


def test_schemathesis_finds_nothing_for_an_anonymous_caller(
    live_server: Any, tmp_path: Path, admin: Any
):
    # given
    ids = _demo_objects(admin)
    # when / then: every operation answers 401 in the documented shape
    _run(live_server, tmp_path, _config(tmp_path, ids))
