"""A small complete tariff for the tariff tests: UK mobile calls with a connect fee, the first
minute as one block and then per second; SMS per message."""

from __future__ import annotations

from typing import Any

from billing.rating.services import RateSlotData, tariff_create, tariff_version_row_save

ROWS: list[tuple[str, dict[str, Any]]] = [
    ("destinations", {"id": "GB_MOBILE", "prefixes": "447"}),
    ("destinations", {"id": "GB_LANDLINE", "prefixes": "441 442 443"}),
    (
        "rates",
        {
            "id": "RT_MOBILE",
            "connect_fee": "0.05",
            "slots": [
                RateSlotData(price="0.10", rate_unit="60s", rate_increment="60s"),
                RateSlotData(price="0.10", rate_unit="60s", rate_increment="1s", group_start="60s"),
            ],
        },
    ),
    (
        "rates",
        {"id": "RT_SMS", "slots": [RateSlotData(price="0.08", rate_unit="1", rate_increment="1")]},
    ),
    ("timings", {"id": "PEAK", "week_days": "1;2;3;4;5", "start_time": "08:00"}),
    (
        "destination_rates",
        {"id": "DR_CALLS", "destination_id": "GB_MOBILE", "rate_id": "RT_MOBILE"},
    ),
    ("destination_rates", {"id": "DR_SMS", "destination_id": "*any", "rate_id": "RT_SMS"}),
    (
        "rating_plans",
        {
            "rating_plan_id": "RP_CALLS",
            "destination_rates_id": "DR_CALLS",
            "timing_id": "*any",
            "weight": "10",
        },
    ),
    (
        "rating_plans",
        {
            "rating_plan_id": "RP_SMS",
            "destination_rates_id": "DR_SMS",
            "timing_id": "*any",
            "weight": "10",
        },
    ),
    (
        "rating_profiles",
        {
            "category": "call",
            "subject": "*any",
            "activation_time": "2020-01-01T00:00:00Z",
            "rating_plan_id": "RP_CALLS",
        },
    ),
    (
        "rating_profiles",
        {
            "category": "sms",
            "subject": "*any",
            "activation_time": "2020-01-01T00:00:00Z",
            "rating_plan_id": "RP_SMS",
        },
    ),
]


def sample_tariff(actor: Any, code: str = "uk-sample") -> Any:
    """A tariff whose draft version 1 holds the sample plan (not published)."""
    tariff = tariff_create(actor=actor, code=code, name="UK sample", currency="GBP")
    version = tariff.versions.get()
    for section, values in ROWS:
        version = tariff_version_row_save(
            version=version, actor=actor, section=section, values=values
        )
    return tariff
