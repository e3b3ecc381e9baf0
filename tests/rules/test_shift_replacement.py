"""Shift replacement (hr-domain §2.2 S-01..S-05; A25, A26, A27)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from rules import outcomes
from rules.shift_replacement import (
    Away,
    Credential,
    Replacement,
    Shift,
    check_replacement,
    check_replacement_named,
    shifts_in_period,
)

DAY_SHIFT_12 = Shift("s-12", datetime(2025, 5, 12, 8), datetime(2025, 5, 12, 20), ("nurse",))
DAY_SHIFT_13 = Shift("s-13", datetime(2025, 5, 13, 8), datetime(2025, 5, 13, 20), ("nurse",))
NURSE = Credential("nurse", "accreditation", valid_from=date(2021, 1, 1), valid_until=date(2026, 1, 1))


def test_a25_replacement_on_leave_on_one_of_the_days():
    x = Replacement("x", away=[Away(date(2025, 5, 13), date(2025, 5, 20))], credentials=[NURSE])
    result = check_replacement("me", x, [DAY_SHIFT_12, DAY_SHIFT_13])
    assert str(result) == "REPLACEMENT_UNAVAILABLE{date:2025-05-13, shift:s-13}"
    assert result.message == "the replacement is away on 2025-05-13"


def test_being_replaced_that_day_is_being_away():
    y = Replacement("y", credentials=[NURSE], replaced_days=frozenset({date(2025, 5, 12)}))
    assert check_replacement("me", y, [DAY_SHIFT_12]).code == outcomes.REPLACEMENT_UNAVAILABLE


def test_a26_own_night_shift_ending_when_the_replaced_one_starts():
    night = Shift("own", datetime(2025, 5, 11, 20), datetime(2025, 5, 12, 8))
    y = Replacement("y", own_shifts=[night], credentials=[NURSE])
    result = check_replacement("me", y, [DAY_SHIFT_12])
    assert result.code == outcomes.TWO_SHIFTS_IN_ROW
    assert result.params == {"shift": "s-12", "previous": "own", "rest_hours": 0}
    assert "ст. 103" in result.message


def test_rest_between_shifts_and_the_table_minimum():
    earlier = Shift("own", datetime(2025, 5, 11, 8), datetime(2025, 5, 11, 20))  # 12 h before s-12
    y = Replacement("y", own_shifts=[earlier], credentials=[NURSE])
    assert check_replacement("me", y, [DAY_SHIFT_12]).ok
    strict = check_replacement("me", y, [DAY_SHIFT_12], min_rest_hours=24)
    assert strict.params["rest_hours"] == 12
    # Taking two back-to-back shifts of the requester is two in a row as well.
    evening = Shift("s-12n", datetime(2025, 5, 12, 20), datetime(2025, 5, 13, 8), ("nurse",))
    z = Replacement("z", credentials=[NURSE])
    assert check_replacement("me", z, [DAY_SHIFT_12, evening]).code == outcomes.TWO_SHIFTS_IN_ROW
    # The replacement's own back-to-back shifts elsewhere in the schedule are not ours to judge.
    own = [
        Shift("o1", datetime(2025, 6, 1, 8), datetime(2025, 6, 1, 20)),
        Shift("o2", datetime(2025, 6, 1, 20), datetime(2025, 6, 2, 8)),
    ]
    assert check_replacement("me", Replacement("z", own_shifts=own, credentials=[NURSE]), [DAY_SHIFT_12]).ok


def test_a27_accreditation_expired_before_the_shift():
    z = Replacement("z", credentials=[Credential("nurse", "accreditation", valid_until=date(2025, 5, 10))])
    result = check_replacement("me", z, [DAY_SHIFT_12])
    assert result.code == outcomes.QUALIFICATION_EXPIRED
    assert (result.params["credential"], result.params["expired"]) == ("accreditation", date(2025, 5, 10))
    assert "expired on 2025-05-10" in result.message


def test_missing_qualification_and_credential_validity_on_every_day():
    no_skill = Replacement("z", credentials=[Credential("electrician", "допуск")])
    assert str(check_replacement("me", no_skill, [DAY_SHIFT_12])) == (
        "REPLACEMENT_NOT_QUALIFIED{qualification:nurse, date:2025-05-12, shift:s-12}"
    )
    night = Shift("n", datetime(2025, 5, 12, 20), datetime(2025, 5, 13, 8), ("nurse",))
    ends_midnight = Replacement(
        "z", credentials=[Credential("nurse", "accreditation", valid_until=date(2025, 5, 12))]
    )
    assert check_replacement("me", ends_midnight, [night]).params["date"] == date(2025, 5, 13)
    not_yet = Replacement(
        "z", credentials=[Credential("nurse", "accreditation", valid_from=date(2025, 6, 1))]
    )
    assert check_replacement("me", not_yet, [DAY_SHIFT_12]).code == outcomes.REPLACEMENT_NOT_QUALIFIED
    renewed = Replacement(
        "z",
        credentials=[
            Credential("nurse", "accreditation", valid_until=date(2025, 5, 10)),
            Credential("nurse", "accreditation", valid_from=date(2025, 5, 11), valid_until=date(2030, 5, 10)),
        ],
    )
    assert check_replacement("me", renewed, [DAY_SHIFT_12]).ok


def test_the_replacement_is_someone_else_and_must_be_named():
    assert (
        check_replacement("me", Replacement("me"), [DAY_SHIFT_12]).code == outcomes.REPLACEMENT_IS_REQUESTER
    )
    affected = shifts_in_period([DAY_SHIFT_13, DAY_SHIFT_12], date(2025, 5, 12), date(2025, 5, 12))
    assert affected == [DAY_SHIFT_12]
    assert str(check_replacement_named(affected, None)) == "REPLACEMENT_REQUIRED{shifts:['s-12']}"
    assert check_replacement_named(affected, "x").ok
    assert check_replacement_named([], None).ok


def test_night_shift_touches_two_days():
    night = Shift("n", datetime(2025, 5, 12, 20), datetime(2025, 5, 13, 8))
    assert night.days == [date(2025, 5, 12), date(2025, 5, 13)]
    assert DAY_SHIFT_12.days == [date(2025, 5, 12)]
    assert shifts_in_period([night], date(2025, 5, 13), date(2025, 5, 14)) == [night]


def test_a_shift_that_ends_before_it_starts_or_lasts_days_is_refused():
    with pytest.raises(ValueError, match=r"^end: shift s ends before"):
        Shift("s", datetime(2025, 5, 12, 20), datetime(2025, 5, 12, 8))
    with pytest.raises(ValueError, match=r"^end: shift s is longer"):
        Shift("s", datetime(2025, 5, 12, 8), datetime(2026, 5, 12, 8))
