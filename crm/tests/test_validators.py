from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crm.validators import (
    iccid_build,
    iccid_clean,
    imsi_clean,
    luhn_valid,
    msisdn_clean,
    msisdn_to_e164,
)


@pytest.mark.parametrize(
    "typed",
    ["+44 7400 123456", "07400 123456", "447400123456", "0044 7400 123456", "(07400) 123-456"],
)
def test_msisdn_typed_any_way_becomes_e164(typed):
    assert msisdn_clean(typed) == "+447400123456"
    assert msisdn_to_e164(typed) == "+447400123456"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("12345", "not a valid phone number"),
        ("+44 20 7946 0000", "not a mobile number"),
        ("+33 6 12 34 56 78", "not of the operator's country"),
        ("hello", "not a valid phone number"),
    ],
)
def test_msisdn_refuses_what_the_operator_cannot_serve(typed, reason):
    with pytest.raises(ValidationError) as caught:
        msisdn_clean(typed)
    assert reason in caught.value.messages[0]


def test_iccid_with_right_check_digit_is_accepted_with_spaces_removed():
    iccid = iccid_build(123)
    spaced = " ".join(iccid[i : i + 4] for i in range(0, len(iccid), 4))
    assert iccid_clean(spaced) == iccid
    assert luhn_valid(iccid)


def test_iccid_with_wrong_check_digit_is_refused():
    iccid = iccid_build(123)
    wrong = iccid[:-1] + str((int(iccid[-1]) + 1) % 10)
    with pytest.raises(ValidationError) as caught:
        iccid_clean(wrong)
    assert "check digit" in caught.value.messages[0]


@pytest.mark.parametrize("bad", ["8944", "12" + "0" * 17, "89441000000000000A1"])
def test_iccid_of_wrong_shape_is_refused(bad):
    with pytest.raises(ValidationError):
        iccid_clean(bad)


def test_imsi_must_have_15_digits_of_the_operators_country():
    assert imsi_clean("234 10 0000000001") == "234100000000001"
    with pytest.raises(ValidationError):
        imsi_clean("23410123")
    with pytest.raises(ValidationError) as caught:
        imsi_clean("208100000000001")
    assert "country code is 208" in caught.value.messages[0]
