"""Importing a supplier's SIM file: every row checked, all or nothing, every bad line named."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from common.errors import ApplicationError
from crm.tests.factories import SubscriberFactory
from crm.validators import iccid_build
from orders.inventory.models import InventoryEvent, SimBatch, SimCard
from orders.inventory.services import sim_batch_import
from orders.tests.inventory_factories import SimCardFactory


def iccid(serial: int) -> str:
    return iccid_build(serial, issuer="50")


def imsi(serial: int) -> str:
    return f"23450{serial:010d}"


def csv_file(*lines: str, name: str = "delivery.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), "text/csv")


def good_rows(count: int, start: int = 1) -> list[str]:
    return [f"{iccid(n)},{imsi(n)},{10000000 + n}" for n in range(start, start + count)]


def wrong_check_digit(serial: int) -> str:
    good = iccid(serial)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def test_a_good_file_puts_every_sim_in_stock(db, actor):
    # given
    file = csv_file("iccid,imsi,puk", *good_rows(3))
    # when
    batch = sim_batch_import(file=file, name="  Delivery  42 ", actor=actor)
    # then
    assert (batch.name, batch.file_name, batch.card_count, batch.imported_by) == (
        "Delivery 42",
        "delivery.csv",
        3,
        actor,
    )
    cards = list(SimCard.objects.order_by("iccid").values_list("iccid", "imsi", "puk", "status"))
    assert cards == [(iccid(n), imsi(n), str(10000000 + n), "in_stock") for n in (1, 2, 3)]
    events = InventoryEvent.objects.filter(sim__batch=batch)
    assert set(events.values_list("old_status", "new_status", "actor", "reason")) == {
        ("", "in_stock", actor.pk, "Imported in batch “Delivery 42”")
    }
    assert events.count() == 3


def test_columns_may_come_in_any_order_with_extra_ones_and_blank_lines(db, actor):
    # given
    file = csv_file(
        "\ufeffPUK, ICCID ,IMSI,Note",
        f"12345678,{iccid(1)},{imsi(1)},first",
        "",
        f"87654321,{iccid(2)},{imsi(2)},second",
    )
    # when
    batch = sim_batch_import(file=file, name="Delivery", actor=actor)
    # then
    assert batch.card_count == 2
    assert SimCard.objects.get(iccid=iccid(2)).puk == "87654321"


def test_a_wrong_check_digit_and_a_duplicate_are_both_reported_and_nothing_is_written(db, actor):
    # given: line 3 has a mistyped ICCID, line 5 repeats line 2's ICCID
    file = csv_file(
        "iccid,imsi,puk",
        f"{iccid(1)},{imsi(1)},11111111",
        f"{wrong_check_digit(2)},{imsi(2)},22222222",
        f"{iccid(3)},{imsi(3)},33333333",
        f"{iccid(1)},{imsi(5)},55555555",
    )
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_batch_import(file=file, name="Delivery", actor=actor)
    # then
    assert exc.value.message == "Nothing was imported: 2 lines are not valid."
    assert exc.value.fields == {
        "file": [
            "Line 3: ICCID: The ICCID's check digit is wrong: check it was typed correctly.",
            f"Line 5: ICCID {iccid(1)} repeats line 2.",
        ]
    }
    assert (
        SimBatch.objects.count() == SimCard.objects.count() == InventoryEvent.objects.count() == 0
    )


def test_every_problem_of_every_line_is_reported(db, actor):
    # given
    SimCardFactory(iccid=iccid(7), imsi=imsi(70), batch__name="Old delivery")
    SubscriberFactory(iccid=iccid(8), imsi=imsi(80), msisdn="+447400123456")
    file = csv_file(
        "iccid,imsi,puk",
        "8944,23450,1234",
        f"{iccid(2)},310150123456789,2222222X",
        f"{iccid(3)}",
        f"{iccid(4)},{imsi(4)},44444444",
        f"{iccid(5)},{imsi(4)},55555555",
        f"{iccid(7)},{imsi(7)},77777777",
        f"{iccid(8)},{imsi(80)},88888888",
    )
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_batch_import(file=file, name="Delivery", actor=actor)
    # then
    assert exc.value.fields["file"] == [
        "Line 2: ICCID: An ICCID has 19 or 20 digits; this has 4; IMSI: An IMSI has exactly "
        "15 digits; A PUK has exactly 8 digits.",
        "Line 3: IMSI: This IMSI's country code is 310, not the operator's (234); "
        "A PUK has exactly 8 digits.",
        "Line 4: 1 values where the header names 3.",
        f"Line 6: IMSI {imsi(4)} repeats line 5.",
        f"Line 7: ICCID {iccid(7)} is already in stock (batch “Old delivery”).",
        f"Line 8: ICCID {iccid(8)} is the SIM of live line +44 7400 123456; "
        f"IMSI {imsi(80)} belongs to live line +44 7400 123456.",
    ]
    assert SimCard.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty: it needs a header row iccid,imsi,puk and SIMs."),
        (b"iccid,imsi,puk\n", "The file has a header row but no SIMs."),
        (
            b"iccid,puk\n8944500000000000017,12345678\n",
            "Line 1: the header row must name the columns iccid, imsi and puk; imsi is missing.",
        ),
        (b"\xff\xfe\x00i\x00c", "The file is not a CSV text file (UTF-8)."),
    ],
)
def test_a_file_without_sims_is_refused(db, actor, content, message):
    # given
    file = SimpleUploadedFile("delivery.csv", content, "text/csv")
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_batch_import(file=file, name="Delivery", actor=actor)
    # then
    assert exc.value.fields == {"file": [message]}
    assert SimBatch.objects.count() == 0


def test_a_batch_needs_a_name_and_a_bounded_file(db, actor, settings):
    # given
    settings.SIM_BATCH_MAX_ROWS = 2
    file = csv_file("iccid,imsi,puk", *good_rows(3))
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_batch_import(file=file, name=" ", actor=actor)
    # then
    assert exc.value.fields == {
        "name": ["Name the batch, e.g. the supplier's delivery number."],
        "file": ["A batch holds at most 2 SIMs."],
    }
    assert SimCard.objects.count() == 0


def test_a_file_larger_than_the_limit_is_refused_unread(db, actor, settings):
    # given
    settings.SIM_BATCH_MAX_BYTES = 1024 * 1024
    file = csv_file("iccid,imsi,puk", *good_rows(30_000))
    # when
    with pytest.raises(ApplicationError) as exc:
        sim_batch_import(file=file, name="Delivery", actor=actor)
    # then
    assert exc.value.fields == {"file": ["The file is larger than 1 MB."]}
