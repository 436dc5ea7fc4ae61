"""Demo usage: a small Asterisk Master.csv of the last days' calls of some live demo lines, and
a mediation system's JSON batch of messages and data sessions, loaded through the same
pipeline as real usage, so the console, self-care and the back office show real usage, and the
reject queue holds a few rows to recycle (a number with no line, a malformed number).
Idempotent: nothing is loaded when the demo batches exist."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from billing.usage.models import UsageBatch
from billing.usage.services import usage_batch_ingest_file, usage_batch_ingest_records
from crm.models import Subscriber

PBX_SOURCE = "demo-pbx"
MEDIATION_SOURCE = "demo-mediation"
LINES = 25
UNKNOWN_NUMBER = "07999000001"  # no demo line has it: its calls wait in the reject queue
DESTINATIONS = ("07700900123", "07700900456", "02079460018", "01614960000")
ABROAD = "+33145678901"  # the demo tariffs rate no international call: it waits as no_rate


def _local(moment: datetime | None) -> str:
    return "" if moment is None else timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _call(rng: random.Random, src: str, dst: str, start: datetime, uniqueid: str) -> list[str]:
    answered = rng.random() > 0.15
    ring = rng.randint(2, 15)
    billsec = rng.randint(5, 900) if answered else 0
    answer = start + timedelta(seconds=ring) if answered else None
    end = start + timedelta(seconds=ring + billsec)
    return [
        "", src, dst, "from-internal", f'"Demo" <{src}>', "SIP/demo-00000001",
        "SIP/trunk-00000002", "Dial", f"SIP/trunk/{dst},60", _local(start), _local(answer),
        _local(end), str(ring + billsec), str(billsec), "ANSWERED" if answered else "NO ANSWER",
        "DOCUMENTATION", uniqueid,
    ]  # fmt: skip


def _national(msisdn: str) -> str:
    return "0" + msisdn[3:] if msisdn.startswith("+44") else msisdn


def usage_demo_ensure(actor: Any, *, msisdn_prefix: str) -> list[UsageBatch]:
    """Load the demo usage once; returns the batches made (none when they exist)."""
    if UsageBatch.objects.filter(source_name__in=[PBX_SOURCE, MEDIATION_SOURCE]).exists():
        return []
    lines = list(
        Subscriber.objects.filter(
            msisdn__startswith=msisdn_prefix, status=Subscriber.Status.ACTIVE, plan__isnull=False
        )
        .order_by("pk")
        .values_list("msisdn", "imsi")[:LINES]
    )
    if not lines:
        return []
    rng = random.Random(8)
    now = timezone.now().replace(microsecond=0)
    rows = []
    for n, (msisdn, _) in enumerate(lines):
        for k in range(4):
            # today's calls too, so a line's usage page (this month by default) is never empty
            start = now - timedelta(days=rng.randint(0, 3), minutes=rng.randint(30, 600))
            destination = rng.choice(DESTINATIONS)
            rows.append(_call(rng, _national(msisdn), destination, start, f"1700000000.{n}{k}"))
    start = now - timedelta(days=1, hours=2)
    rows.append(_call(rng, UNKNOWN_NUMBER, DESTINATIONS[0], start, "1700000001.1"))
    rows.append(_call(rng, UNKNOWN_NUMBER, DESTINATIONS[1], start, "1700000001.2"))
    rows.append(_call(rng, _national(lines[0][0]), "0770-CALL-ME", start, "1700000001.3"))
    rows.append(_call(rng, _national(lines[1 % len(lines)][0]), ABROAD, start, "1700000001.4"))
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    folder = Path(settings.MEDIA_ROOT) / "usage" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Master.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    pbx = usage_batch_ingest_file(
        path_or_file=path, format="asterisk", source=PBX_SOURCE, actor=actor
    )

    records: list[dict[str, Any]] = []
    for n, (msisdn, imsi) in enumerate(lines[:10]):
        sent = now - timedelta(days=1, minutes=rng.randint(0, 600))
        records.append({"record_id": f"sms-{n}", "service": "sms", "direction": "originating",
                        "calling_number": msisdn, "called_number": rng.choice(DESTINATIONS[:2]),
                        "started_at": sent.isoformat()})  # fmt: skip
        if imsi:
            records.append({"record_id": f"data-{n}", "service": "data", "imsi": imsi,
                            "calling_number": msisdn, "apn": "internet",
                            "started_at": (sent - timedelta(hours=1)).isoformat(),
                            "ended_at": sent.isoformat(), "duration_seconds": 3600,
                            "bytes_up": rng.randint(10**5, 10**7),
                            "bytes_down": rng.randint(10**6, 10**8)})  # fmt: skip
    mediation = usage_batch_ingest_records(records=records, source=MEDIATION_SOURCE, actor=actor)
    return [pbx, mediation]
