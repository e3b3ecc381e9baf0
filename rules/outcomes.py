"""What every HR check returns: an ``Outcome`` with a stable code, its numbers and a message.

Codes are part of the API: routes, decisions and the employee's 422 carry them, and tests and
DMN tables match on them, so a code is never renamed. Where hr-domain §1.5 and §8 name a code
(``SPLIT_14_RULE``, ``DEPT_LIMIT``, ``MANDATORY_CAP``, ``OVER_FUND`` ...) that name is used.

``str(outcome)`` is the compact form the issue shows: ``INSUFFICIENT_BALANCE{available:10, requested:14}``.
Messages come in English and Russian (notifications are bilingual) and hold only numbers, dates,
codes and ids: never a person's name, so an outcome may be logged and audited as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Effect(StrEnum):
    """What the route does with an outcome."""

    NONE = "none"  # the rule holds
    REJECT = "reject"  # the request cannot go on
    ESCALATE = "escalate"  # it goes on with an extra approval step (director, CFO)
    WARN = "warn"  # it goes on, and the warning is shown and recorded


OK = "OK"
# Leave (§1)
INVALID_PERIOD = "INVALID_PERIOD"
NO_CHARGEABLE_DAYS = "NO_CHARGEABLE_DAYS"
INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
OVERLAP = "OVERLAP"
SPLIT_14_RULE = "SPLIT_14_RULE"
NOTICE_TOO_SHORT = "NOTICE_TOO_SHORT"
MANDATORY_CAP = "MANDATORY_CAP"
UNKNOWN_UNPAID_GROUND = "UNKNOWN_UNPAID_GROUND"
MAX_CONTINUOUS = "MAX_CONTINUOUS"
EARLY_LEAVE_BY_AGREEMENT = "EARLY_LEAVE_BY_AGREEMENT"
# Department limits and blocked dates (§2.1)
DEPT_LIMIT = "DEPT_LIMIT"
BLOCKED_DATE = "BLOCKED_DATE"
BLOCKED_DATE_NOT_AUTHORIZED = "BLOCKED_DATE_NOT_AUTHORIZED"
BLOCK_BYPASS_LEGAL = "BLOCK_BYPASS_LEGAL"
# Shift replacement (§2.2)
REPLACEMENT_REQUIRED = "REPLACEMENT_REQUIRED"
REPLACEMENT_IS_REQUESTER = "REPLACEMENT_IS_REQUESTER"
REPLACEMENT_UNAVAILABLE = "REPLACEMENT_UNAVAILABLE"
REPLACEMENT_NOT_QUALIFIED = "REPLACEMENT_NOT_QUALIFIED"
QUALIFICATION_EXPIRED = "QUALIFICATION_EXPIRED"
TWO_SHIFTS_IN_ROW = "TWO_SHIFTS_IN_ROW"
# Bonuses (§3)
BONUS_NOT_ELIGIBLE = "BONUS_NOT_ELIGIBLE"
BONUS_LIMIT_EXCEEDED = "BONUS_LIMIT_EXCEEDED"
OVER_FUND = "OVER_FUND"

# code -> (English, Russian) message templates, filled from the outcome's params with str.format.
MESSAGES: dict[str, tuple[str, str]] = {
    OK: ("ok", "в порядке"),
    INVALID_PERIOD: (
        "the period {start}..{end} ends before it starts",
        "период {start}..{end} заканчивается раньше, чем начинается",
    ),
    NO_CHARGEABLE_DAYS: (
        "every day of {start}..{end} is a public holiday: nothing to charge",
        "все дни периода {start}..{end} нерабочие праздничные: списывать нечего",
    ),
    INSUFFICIENT_BALANCE: (
        "balance {available}, requested {requested}: insufficient",
        "остаток {available}, запрошено {requested}: недостаточно",
    ),
    OVERLAP: (
        "overlaps leave {other_request_id} ({other_start}..{other_end})",
        "пересекается с отпуском {other_request_id} ({other_start}..{other_end})",
    ),
    SPLIT_14_RULE: (
        "after this request {remaining} days remain and no part of {min_part}+ days exists (ст. 125)",
        "после этой заявки останется {remaining} дн., а части от {min_part} дн. нет (ст. 125)",
    ),
    NOTICE_TOO_SHORT: (
        "leave must be requested {required} days before it starts; {given} days given (due {due})",
        "об отпуске нужно заявить за {required} дн.; осталось {given} дн. (срок {due})",
    ),
    MANDATORY_CAP: (
        "mandatory unpaid leave ({ground}): cap {cap} days a year, used {used}, requested {requested}",
        "обязательный отпуск без сохранения ЗП ({ground}): лимит {cap} дн. в год, "
        "использовано {used}, запрошено {requested}",
    ),
    UNKNOWN_UNPAID_GROUND: (
        "unknown ground for mandatory unpaid leave: {ground}",
        "неизвестное основание отпуска без сохранения ЗП: {ground}",
    ),
    MAX_CONTINUOUS: (
        "leave of this type cannot be longer than {max} days in a row; with adjacent leave it is {chain}",
        "отпуск этого вида не может длиться дольше {max} дн. подряд; вместе со смежными {chain}",
    ),
    EARLY_LEAVE_BY_AGREEMENT: (
        "the right to leave starts on {right_from} (6 months of work); earlier only by agreement",
        "право на отпуск с {right_from} (6 месяцев работы); раньше только по соглашению",
    ),
    DEPT_LIMIT: (
        "department limit on {date}: {on_leave} already away, limit {limit}",
        "лимит отдела на {date}: уже отсутствуют {on_leave}, лимит {limit}",
    ),
    BLOCKED_DATE: (
        "leave is blocked on {date}: {reason}",
        "отпуск на {date} заблокирован: {reason}",
    ),
    BLOCKED_DATE_NOT_AUTHORIZED: (
        "not authorized to approve on blocked dates ({date}: {reason})",
        "нет права согласовывать на заблокированные даты ({date}: {reason})",
    ),
    BLOCK_BYPASS_LEGAL: (
        "blocked dates bypassed: the employer must grant this leave ({date}: {reason})",
        "блокировка обойдена: работодатель обязан предоставить этот отпуск ({date}: {reason})",
    ),
    REPLACEMENT_REQUIRED: (
        "a replacement must be named for the shifts {shifts}",
        "нужно указать замену на смены {shifts}",
    ),
    REPLACEMENT_IS_REQUESTER: (
        "the replacement cannot be the requester",
        "заменяющий не может быть самим заявителем",
    ),
    REPLACEMENT_UNAVAILABLE: (
        "the replacement is away on {date}",
        "заменяющий отсутствует {date}",
    ),
    REPLACEMENT_NOT_QUALIFIED: (
        "the replacement lacks the qualification {qualification} needed on {date}",
        "у заменяющего нет квалификации {qualification}, нужной на {date}",
    ),
    QUALIFICATION_EXPIRED: (
        "the replacement's {credential} for {qualification} expired on {expired}; the shift is on {date}",
        "{credential} заменяющего по {qualification} истёк {expired}; смена {date}",
    ),
    TWO_SHIFTS_IN_ROW: (
        "shift {shift} would follow shift {previous} with {rest_hours} h of rest: "
        "two shifts in a row are forbidden (ст. 103)",
        "смена {shift} идёт после смены {previous} с отдыхом {rest_hours} ч: "
        "работа две смены подряд запрещена (ст. 103)",
    ),
    # rules.bonus writes these two messages itself, from the B-1 and B-2 rows; these are the fallbacks.
    BONUS_NOT_ELIGIBLE: ("not eligible for a bonus ({rule})", "нет права на премию ({rule})"),
    BONUS_LIMIT_EXCEEDED: ("{bonus_type} bonus exceeds its cap", "премия ({bonus_type}) превышает лимит"),
    OVER_FUND: (
        "exceeds department fund: {available} available",
        "превышает фонд отдела: доступно {available}",
    ),
}


def problem(field_name: str, rule: str, message: str, /, **params: Any) -> dict[str, Any]:
    """One entry of a 422's ``errors``: which field, which rule, its parameters (JSON-friendly), and why."""
    return {"field": field_name, "rule": rule, "params": plain(params), "message": message}


def plain(value: Any) -> Any:
    """A JSON-friendly copy of a param value: ISO dates, numbers as int/float, lists for tuples."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Outcome:
    """The result of one rule check: ``ok``, a stable ``code``, its ``params`` and messages."""

    ok: bool
    code: str = OK
    params: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""
    message_ru: str = ""
    effect: Effect = Effect.NONE

    def __str__(self) -> str:
        if not self.params:
            return self.code
        inner = ", ".join(f"{key}:{plain(value)}" for key, value in self.params.items())
        return f"{self.code}{{{inner}}}"

    def to_dict(self) -> dict[str, Any]:
        """The outcome as JSON-friendly data, for task data, stored decisions and API errors."""
        return {
            "ok": self.ok,
            "code": self.code,
            "params": plain(dict(self.params)),
            "message": self.message,
            "message_ru": self.message_ru,
            "effect": str(self.effect),
            "text": str(self),
        }


def _render(code: str, params: Mapping[str, Any]) -> tuple[str, str]:
    english, russian = MESSAGES[code]
    values = {key: plain(value) for key, value in params.items()}
    return english.format(**values), russian.format(**values)


def passed(**params: Any) -> Outcome:
    """An ``OK`` outcome; ``params`` carry the numbers a decision may show (e.g. days charged)."""
    return Outcome(ok=True, code=OK, params=params, message="ok", message_ru="в порядке")


def failed(code: str, effect: Effect = Effect.REJECT, **params: Any) -> Outcome:
    """An outcome for a rule that does not hold, with messages rendered from ``MESSAGES``."""
    message, message_ru = _render(code, params)
    return Outcome(ok=False, code=code, params=params, message=message, message_ru=message_ru, effect=effect)


def notice(code: str, effect: Effect = Effect.WARN, **params: Any) -> Outcome:
    """An outcome that lets the request go on but must be shown and recorded (a flag or a bypass)."""
    message, message_ru = _render(code, params)
    return Outcome(ok=True, code=code, params=params, message=message, message_ru=message_ru, effect=effect)
