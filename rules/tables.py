"""The catalog of rule tables HR edits: what each table holds, who reads it, and what a valid row is.

Each table is described once here, as data: its columns (with a JSON Schema per row), the key
columns that name a row, the semantic checks a schema cannot say (``to`` not before ``from``), the
legal limits HR may tighten but not loosen, and the rows shipped as defaults. Storage, versions
and the API live in ``engine.services.rule_tables``; the calculators in ``rules/`` read the rows.

This module imports no other project package: the engine, the API and the calculators all
depend on it, never the other way round. The one exception is the production calendar's default
rows, taken from ``rules.calendar.default_rows`` when first read (that module imports nothing of ours).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import jsonschema

Row = dict[str, Any]
# One problem with a table: (row number, or None for the whole table; field; message).
Problem = tuple[int | None, str, str]

# Who reads what. Staff who build or run routes read every table; employees read the tables that
# explain their own requests (kinds of leave and their grounds, the calendar, certificate deadlines),
# not the department limits, blocked dates, qualifications or bonus money of others.
STAFF_READERS = frozenset({"hr", "admin", "designer", "manager"})
EVERYONE = STAFF_READERS | {"employee"}
WRITERS = frozenset({"hr", "admin"})

CODE_PATTERN = "^[a-z][a-z0-9_]{0,63}$"
DEPARTMENT_PATTERN = r"^(\*|[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$"  # '*' = every department (the default row)


@dataclass(frozen=True)
class LegalLimit:
    """A value the law sets for one row: HR may make it better for the employee, never worse.

    ``at_least`` limits are floors (leave days, caps of mandatory leave); ``at_most`` ones are
    ceilings (deadlines). The row itself may not be removed either.
    """

    key: tuple[Any, ...]
    column: str
    at_least: float | None = None
    at_most: float | None = None
    basis: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One rule table of the catalog."""

    name: str
    title: str
    description: str
    properties: Mapping[str, Mapping[str, Any]]  # column → JSON Schema, in column order
    key: tuple[str, ...]
    required: tuple[str, ...]
    readers: frozenset[str]
    defaults: Callable[[], list[Row]]
    row_checks: tuple[Callable[[Row], list[tuple[str, str]]], ...] = ()
    legal: tuple[LegalLimit, ...] = ()
    writers: frozenset[str] = WRITERS

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names, in the order of the CSV header."""
        return tuple(self.properties)

    @property
    def row_schema(self) -> dict[str, Any]:
        """The JSON Schema one row must satisfy."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.title,
            "type": "object",
            "properties": copy.deepcopy(dict(self.properties)),
            "required": list(self.required),
            "additionalProperties": False,
            "x-key": list(self.key),
        }

    def may_read(self, roles: frozenset[str] | set[str]) -> bool:
        """True if any of ``roles`` may read this table."""
        return not self.readers.isdisjoint(roles)

    def may_write(self, roles: frozenset[str] | set[str]) -> bool:
        """True if any of ``roles`` may replace this table's rows."""
        return not self.writers.isdisjoint(roles)

    def key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values of the key columns of ``row`` (a malformed value by its repr, so it can be hashed)."""
        return tuple(_hashable(row.get(column)) for column in self.key)

    def default_rows(self) -> list[Row]:
        """The shipped rows (version 0), normalised; a fresh copy on every call."""
        return [self.normalise(row) for row in self.defaults()]

    def normalise(self, row: Mapping[str, Any]) -> Row:
        """``row`` with every column in catalog order; a missing optional column takes its default."""
        result = {}
        for column, schema in self.properties.items():
            result[column] = (
                copy.deepcopy(row[column]) if column in row else copy.deepcopy(schema.get("default"))
            )
        # Unknown columns are kept so that validation can name them.
        result.update({k: v for k, v in row.items() if k not in self.properties})
        return result

    def validate(self, rows: Sequence[Any], numbers: Sequence[int] | None = None) -> list[Problem]:
        """Every problem of ``rows``: schema, semantic checks, duplicate keys and legal limits.

        Each problem names its row by ``numbers[i]`` (default: the 1-based position), or None
        for a problem of the whole table (a legal row removed).
        """
        numbers = list(numbers) if numbers is not None else list(range(1, len(rows) + 1))
        validator = jsonschema.Draft202012Validator(
            self.row_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        problems: list[Problem] = []
        seen: dict[tuple[Any, ...], int] = {}
        present = set()  # keys of every row, valid or not: a legal row with a typo is not "removed"
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                problems.append((numbers[index], "", "a row must be an object of column: value"))
                continue
            present.add(self.key_of(row))
            errors = sorted(validator.iter_errors(row), key=lambda e: list(e.absolute_path))
            problems.extend((numbers[index], _field_of(e), _message_of(e)) for e in errors)
            if errors:
                continue  # semantic checks assume well-typed values
            problems.extend(
                (numbers[index], name, message) for check in self.row_checks for name, message in check(row)
            )
            key = self.key_of(row)
            if key in seen:
                where = ", ".join(f"{c}={v!r}" for c, v in zip(self.key, key, strict=True))
                problems.append(
                    (numbers[index], self.key[0], f"duplicate key ({where}): also row {numbers[seen[key]]}")
                )
            else:
                seen[key] = index
        problems.extend(self._legal_problems(rows, seen, present, numbers))
        return problems

    def _legal_problems(
        self,
        rows: Sequence[Any],
        index_of: dict[tuple[Any, ...], int],
        present: set[tuple[Any, ...]],
        numbers: Sequence[int],
    ) -> list[Problem]:
        problems: list[Problem] = []
        for limit in self.legal:
            index = index_of.get(limit.key)
            name = ", ".join(str(v) for v in limit.key)
            if index is None and limit.key in present:
                continue  # the row is there but invalid; its own problems are already listed
            if index is None:
                problems.append(
                    (
                        None,
                        self.key[0],
                        f"the row '{name}' is set by law ({limit.basis}) and may not be removed",
                    )
                )
                continue
            value = rows[index].get(limit.column)
            if limit.at_least is not None and (value is None or value < limit.at_least):
                problems.append(
                    (
                        numbers[index],
                        limit.column,
                        f"may not be below {_number(limit.at_least)} for '{name}' ({limit.basis}); "
                        "HR may tighten a legal rule in the employee's favour, not loosen it",
                    )
                )
            if limit.at_most is not None and (value is None or value > limit.at_most):
                problems.append(
                    (
                        numbers[index],
                        limit.column,
                        f"may not be above {_number(limit.at_most)} for '{name}' ({limit.basis}); "
                        "HR may tighten a legal rule in the employee's favour, not loosen it",
                    )
                )
        return problems


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _field_of(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return str(error.message.split("'")[1]) if "'" in error.message else ""
    if error.validator == "additionalProperties":
        return ", ".join(sorted(set(error.instance) - set(error.schema.get("properties", {}))))
    return ".".join(str(p) for p in error.absolute_path)


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "null": "empty",
}


def _message_of(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return "is required"
    if error.validator == "additionalProperties":
        return "unknown column"
    if error.validator == "type":
        expected = (
            error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        )
        return f"must be {' or '.join(_TYPE_WORDS.get(t, t) for t in expected)}, not {error.instance!r}"
    if error.validator == "enum":
        return f"must be one of {', '.join(map(str, error.validator_value))}, not {error.instance!r}"
    if error.validator == "format":
        return f"must be an ISO date YYYY-MM-DD, not {error.instance!r}"
    if error.validator == "pattern":
        return f"{error.instance!r} is not allowed here: {error.schema.get('description', 'wrong shape')}"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }[error.validator]
        return f"must be {words} {error.validator_value}, not {error.instance!r}"
    if error.validator in ("minLength", "maxLength"):
        return "may not be empty" if error.validator_value == 1 else error.message
    return error.message


# --- column schemas -------------------------------------------------------------------------------


def _code(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": CODE_PATTERN, "description": description}


def _text(description: str, *, optional: bool = False, max_length: int = 200) -> dict[str, Any]:
    if optional:
        return {"type": "string", "maxLength": max_length, "default": "", "description": description}
    return {"type": "string", "minLength": 1, "maxLength": max_length, "description": description}


def _bool(description: str, default: bool) -> dict[str, Any]:
    return {"type": "boolean", "default": default, "description": description}


def _count(description: str, *, nullable: bool = True, minimum: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": ["integer", "null"] if nullable else "integer",
        "minimum": minimum,
        "description": description,
    }
    if nullable:
        schema["default"] = None
    return schema


def _date(description: str) -> dict[str, Any]:
    return {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": description}


def _department(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": DEPARTMENT_PATTERN, "description": description}


def _list(description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "maxLength": 254},
        "default": [],
        "description": description + " (in CSV: separated by ',')",
    }


# --- semantic row checks --------------------------------------------------------------------------


def _from_not_after_to(row: Row) -> list[tuple[str, str]]:
    if row["to"] < row["from"]:  # ISO dates compare as text once the schema has checked them
        return [("to", f"{row['to']} is before 'from' {row['from']}")]
    return []


def _some_limit(row: Row) -> list[tuple[str, str]]:
    if row.get("max_share") is None and row.get("max_people") is None and row.get("min_present") is None:
        return [("max_share", "give at least one of max_share, max_people and min_present")]
    return []


def _validity_with_credential(row: Row) -> list[tuple[str, str]]:
    if row["needs_credential"] and row.get("validity_months") is None:
        return [("validity_months", "is required when needs_credential is true")]
    return []


def _period_shape(row: Row) -> list[tuple[str, str]]:
    # The schema's pattern accepts 2026-13; a real month, quarter or year is checked here.
    period = row["period"]
    if len(period) == 7 and period[5] != "Q" and not 1 <= int(period[5:]) <= 12:
        return [("period", f"{period!r} has no month {period[5:]}")]
    return []


# --- default rows ---------------------------------------------------------------------------------


def _leave_types() -> list[Row]:
    def kind(code, ru, en, *, paid, days, notice, counts_holidays, needs_balance, legal):
        return {
            "code": code,
            "title_ru": ru,
            "title_en": en,
            "paid": paid,
            "days_per_year": days,
            "needs_notice_days": notice,
            "counts_holidays": counts_holidays,
            "needs_balance": needs_balance,
            "legal": legal,
            # No shipped type limits a run of days; HR sets one for a day-off-like type (A22).
            "max_continuous": None,
        }

    return [
        # L-01 (ст. 115), L-02 (ст. 120: holidays inside the leave are not counted), L-10 (ст. 123 ч.3).
        kind(
            "annual",
            "Ежегодный основной оплачиваемый отпуск",
            "Annual paid leave",
            paid=True,
            days=28,
            notice=14,
            counts_holidays=False,
            needs_balance=True,
            legal=True,
        ),
        # L-14 (ст. 116-119): the length is per person (harmful conditions, irregular day), on the ledger.
        kind(
            "additional",
            "Ежегодный дополнительный оплачиваемый отпуск",
            "Additional paid leave",
            paid=True,
            days=None,
            notice=14,
            counts_holidays=False,
            needs_balance=True,
            legal=True,
        ),
        # L-15 (ст. 128 ч.1): agreed with the employer, who may refuse; no balance, no notice (L-17).
        kind(
            "unpaid_agreed",
            "Отпуск без сохранения заработной платы по соглашению",
            "Unpaid leave by agreement",
            paid=False,
            days=None,
            notice=0,
            counts_holidays=True,
            needs_balance=False,
            legal=False,
        ),
        # L-16 (ст. 128 ч.2): the employer must grant it; caps per ground in unpaid_leave_grounds.
        kind(
            "unpaid_mandatory",
            "Отпуск без сохранения заработной платы (ст. 128 ч. 2)",
            "Mandatory unpaid leave (art. 128 part 2)",
            paid=False,
            days=None,
            notice=0,
            counts_holidays=True,
            needs_balance=False,
            legal=True,
        ),
        # ст. 173-176: study leave, on a certificate from the school; length set by the certificate.
        kind(
            "study",
            "Учебный отпуск",
            "Study leave",
            paid=True,
            days=None,
            notice=0,
            counts_holidays=True,
            needs_balance=False,
            legal=True,
        ),
    ]


def _unpaid_leave_grounds() -> list[Row]:
    # L-16, ст. 128 ч.2 ТК РФ: the employer must grant unpaid leave on application, up to these caps.
    grounds = [
        ("wwii_veteran", "Участник Великой Отечественной войны", "WWII participant", 35),
        ("working_pensioner", "Работающий пенсионер по старости", "Working old-age pensioner", 14),
        (
            "serviceman_family",
            "Родители и жёны (мужья) погибших военнослужащих",
            "Parent or spouse of a serviceman who died in service",
            14,
        ),
        ("disabled", "Работающий инвалид", "Working disabled person", 60),
        ("child_birth", "Рождение ребёнка", "Birth of a child", 5),
        ("marriage", "Регистрация брака", "Marriage registration", 5),
        ("relative_death", "Смерть близкого родственника", "Death of a close relative", 5),
    ]
    return [
        {
            "code": code,
            "title_ru": ru,
            "title_en": en,
            "cap_days": cap,
            "cap_policy": "split",
            "legal": True,
            "basis": "ст. 128 ч. 2 ТК РФ",
        }
        for code, ru, en, cap in grounds
    ]


# ст. 112 ТК РФ: the non-working public holidays (L-03), as (month, day, name).
_PUBLIC_HOLIDAYS = (
    (1, 1, "Новогодние каникулы"),
    (1, 2, "Новогодние каникулы"),
    (1, 3, "Новогодние каникулы"),
    (1, 4, "Новогодние каникулы"),
    (1, 5, "Новогодние каникулы"),
    (1, 6, "Новогодние каникулы"),
    (1, 7, "Рождество Христово"),
    (1, 8, "Новогодние каникулы"),
    (2, 23, "День защитника Отечества"),
    (3, 8, "Международный женский день"),
    (5, 1, "Праздник Весны и Труда"),
    (5, 9, "День Победы"),
    (6, 12, "День России"),
    (11, 4, "День народного единства"),
)

# Days off moved by the government's yearly decree (ст. 112 ч.5): January holidays that fall on a
# weekend move to the dates it names, and a Saturday may swap with a Monday. Sources: the decrees
# on consultant.ru, cons_doc_LAW_515170 (2026: 3 Jan → 9 Jan, 4 Jan → 31 Dec) and
# cons_doc_LAW_544706 (2027: 2 Jan → 5 Nov, 3 Jan → 31 Dec, Sat 20 Feb worked for Mon 22 Feb), as
# cited by the `holidays` package that rules.calendar seeds from; a test checks the two agree.
_DECREE_MOVES: dict[int, tuple[tuple[date, str, str], ...]] = {
    2026: (
        (date(2026, 1, 9), "day_off", "Перенос с 3 января"),
        (date(2026, 12, 31), "day_off", "Перенос с 4 января"),
    ),
    2027: (
        (date(2027, 2, 20), "working_day", "Рабочий день (перенос на 22 февраля)"),
        (date(2027, 2, 22), "day_off", "Перенос с 20 февраля"),
        (date(2027, 11, 5), "day_off", "Перенос с 2 января"),
        (date(2027, 12, 31), "day_off", "Перенос с 3 января"),
    ),
}


def production_calendar_rows(years: Sequence[int] = (2026, 2027)) -> list[Row]:
    """Federal holidays (ст. 112) of ``years``, the days off they move to, and the decrees' moves.

    A holiday on a Saturday or Sunday moves to the next working day, which becomes a ``day_off``
    (counted in leave, unlike the holiday itself: L-03); January's are moved by decree instead.
    """
    rows: list[Row] = []
    for year in years:
        holidays = {date(year, month, day): name for month, day, name in _PUBLIC_HOLIDAYS}
        days_off: dict[date, str] = {}
        for day, name in holidays.items():
            if day.month == 1 or day.weekday() < 5:
                continue
            moved = day + timedelta(days=1)
            while moved.weekday() >= 5 or moved in holidays or moved in days_off:
                moved += timedelta(days=1)
            days_off[moved] = f"Перенос с {day.day} {_MONTHS_GENITIVE[day.month]} ({name})"
        for day, name in holidays.items():
            rows.append({"date": day.isoformat(), "kind": "holiday", "region": "", "name": name})
        for day, name in days_off.items():
            rows.append({"date": day.isoformat(), "kind": "day_off", "region": "", "name": name})
        for day, kind, name in _DECREE_MOVES.get(year, ()):
            rows.append({"date": day.isoformat(), "kind": kind, "region": "", "name": name})
    return sorted(rows, key=lambda r: (r["date"], r["region"]))


_MONTHS_GENITIVE = {2: "февраля", 3: "марта", 5: "мая", 6: "июня", 11: "ноября"}


CALENDAR_DEFAULT_YEARS = (2025, 2027)  # version 0 covers these years; HR adds later ones as a new version


def _calendar_defaults() -> list[Row]:
    # The `holidays` package carries every year's decree (2025 included, so scenarios dated 2025
    # work); production_calendar_rows above is the hand-checked reading of the same law that a test
    # compares it with. Imported here: rules.calendar is a calculator, this module is the catalog.
    from rules.calendar import default_rows

    rows = [{**row, "region": row["region"] or ""} for row in default_rows(*CALENDAR_DEFAULT_YEARS)]
    return sorted(rows, key=lambda r: (r["date"], r["region"]))


def _department_limits() -> list[Row]:
    # hr-domain §2.1 is company policy, not law: the shipped default only warns, at half a department.
    return [{"department": "*", "max_share": 0.5, "max_people": None, "min_present": None, "mode": "warn"}]


def _qualifications() -> list[Row]:
    # hr-domain §5: accreditation every 5 years (323-ФЗ ст. 69); labour safety and first aid every
    # 3 years (ПП РФ № 2464); electrical safety group and the periodic medical exam yearly ⚠.
    return [
        {
            "code": "medical_accreditation",
            "title": "Аккредитация специалиста",
            "needs_credential": True,
            "validity_months": 60,
            "periodic_accreditation": True,
        },
        {
            "code": "labour_safety",
            "title": "Обучение по охране труда",
            "needs_credential": True,
            "validity_months": 36,
        },
        {
            "code": "first_aid",
            "title": "Обучение оказанию первой помощи",
            "needs_credential": True,
            "validity_months": 36,
        },
        {
            "code": "electrical_safety",
            "title": "Группа по электробезопасности",
            "needs_credential": True,
            "validity_months": 12,
        },
        {
            "code": "medical_exam",
            "title": "Периодический медицинский осмотр",
            "needs_credential": True,
            "validity_months": 12,
        },
        {"code": "nurse", "title": "Медицинская сестра", "needs_credential": False, "validity_months": None},
    ]


def _mandatory_trainings() -> list[Row]:
    # hr-domain §5.2 ⚠: the periods are the usual minimums; the medical exam depends on the harmful
    # factor and position attestation on the local act, so HR sets them per company. Attestation is
    # not a допуск: an overdue one is reminded of but does not stop anyone working.
    def item(code, title, months, basis, blocks=True):
        return {
            "code": code,
            "title": title,
            "period_months": months,
            "due_soon_days": 30,
            "blocks_admission": blocks,
            "basis": basis,
        }

    return [
        item("labour_safety", "Обучение по охране труда и проверка знаний", 36, "ПП РФ № 2464"),
        item("first_aid", "Обучение оказанию первой помощи", 36, "ПП РФ № 2464"),
        item("repeat_briefing", "Повторный инструктаж", 6, "ПП РФ № 2464"),
        item("medical_exam", "Периодический медицинский осмотр", 12, "приказ Минздрава № 29н"),
        item("electrical_safety", "Группа по электробезопасности", 12, "Правила по ОТ в электроустановках"),
        item("position_attestation", "Аттестация на соответствие должности", 36, "ст. 81 ТК РФ", False),
    ]


def _certificate_slas() -> list[Row]:
    # ст. 62 ТК РФ: copies and certificates within 3 working days of the application (hr-domain §4).
    def sla(kind, title, auto):
        return {"certificate_type": kind, "title": title, "working_days": 3, "auto": auto, "legal": True}

    return [
        sla("employment", "Справка с места работы", True),
        sla("used_leave", "Справка об использованных отпусках", True),
        sla("visa", "Справка для визы", False),  # auto only when an approved leave covers the trip
        sla("ndfl", "Справка о доходах и суммах налога (2-НДФЛ)", True),
    ]


# --- the catalog ----------------------------------------------------------------------------------

_CERTIFICATE_TYPES = ("employment", "used_leave", "visa", "ndfl")

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            name="leave_types",
            title="Leave types and policies",
            description="Kinds of leave an employee may request, their length, notice and balance rules.",
            properties={
                "code": _code("annual, additional, unpaid_agreed, unpaid_mandatory, study, ..."),
                "title_ru": _text("name in Russian"),
                "title_en": _text("name in English", optional=True),
                "paid": _bool("paid leave", True),
                "days_per_year": _count("days a year (calendar days); empty when set per person"),
                "needs_notice_days": _count("calendar days of notice before the start", nullable=False)
                | {"default": 0},
                "counts_holidays": _bool(
                    "public holidays inside the leave count as leave days (ст. 120: no)", True
                ),
                "needs_balance": _bool("the days come off the leave ledger", False),
                "legal": _bool("set by law: HR may tighten it, not loosen it", False),
                "max_continuous": _count(
                    "most calendar days in a row of this type, adjacent requests chained; empty: no limit",
                    minimum=1,
                ),
            },
            key=("code",),
            required=("code", "title_ru"),
            readers=EVERYONE,
            defaults=_leave_types,
            legal=(LegalLimit(("annual",), "days_per_year", at_least=28, basis="ст. 115 ТК РФ"),),
        ),
        TableSpec(
            name="unpaid_leave_grounds",
            title="Grounds of mandatory unpaid leave",
            description="Grounds of ст. 128 ч. 2: the employer must grant unpaid leave, up to a cap a year.",
            properties={
                "code": _code("the ground, e.g. marriage, working_pensioner"),
                "title_ru": _text("name in Russian"),
                "title_en": _text("name in English", optional=True),
                "cap_days": _count("calendar days a year the employer must grant", nullable=False, minimum=1),
                "cap_policy": {
                    "type": "string",
                    "enum": ["split", "strict"],
                    "default": "split",
                    "description": "over the cap: split (the rest goes to the manager by agreement) or "
                    "strict (the request is refused)",
                },
                "legal": _bool("set by law: HR may raise the cap, not lower it", False),
                "basis": _text("the article or local act", optional=True),
            },
            key=("code",),
            required=("code", "title_ru", "cap_days"),
            readers=EVERYONE,
            defaults=_unpaid_leave_grounds,
            legal=tuple(
                LegalLimit((row["code"],), "cap_days", at_least=row["cap_days"], basis="ст. 128 ч. 2 ТК РФ")
                for row in _unpaid_leave_grounds()
            ),
        ),
        TableSpec(
            name="production_calendar",
            title="Production calendar",
            description="Public holidays, moved days off and working weekends, per date and region.",
            properties={
                "date": _date("the day, YYYY-MM-DD"),
                "kind": {
                    "type": "string",
                    "enum": ["holiday", "day_off", "working_day"],
                    "description": "holiday (ст. 112; not counted in leave), day_off (moved; counted), "
                    "working_day (a weekend made working)",
                },
                "region": {
                    "type": "string",
                    "maxLength": 64,
                    "default": "",
                    "description": "region code; empty for the federal calendar",
                },
                "name": _text("what the day is", optional=True),
            },
            key=("date", "region"),
            required=("date", "kind"),
            readers=EVERYONE,
            defaults=_calendar_defaults,
        ),
        TableSpec(
            name="department_limits",
            title="Department limits",
            description="How many of a department may be absent on a day (hr-domain §2.1, D-01..D-04).",
            properties={
                "department": _department("department code; '*' for every department without its own row"),
                "max_share": {
                    "type": ["number", "null"],
                    "minimum": 0,
                    "maximum": 1,
                    "default": None,
                    "description": "largest share of the headcount absent on a day, 0..1",
                },
                "max_people": _count("most people absent on a day"),
                "min_present": _count("fewest people present on a day"),
                "mode": {
                    "type": "string",
                    "enum": ["block", "escalate", "warn"],
                    "description": "on a breach: block the request, escalate to the director, or warn",
                },
            },
            key=("department",),
            required=("department", "mode"),
            readers=STAFF_READERS,
            defaults=_department_limits,
            row_checks=(_some_limit,),
        ),
        TableSpec(
            name="blocked_dates",
            title="Blocked dates",
            description="Periods when leave is not approved (year close), and who may still approve it.",
            properties={
                "department": _department("department code; '*' for every department"),
                "from": _date("first blocked day"),
                "to": _date("last blocked day (inclusive)"),
                "reason": _text("why, e.g. year close"),
                "allow": _list("e-mails or positions who may still approve leave on these days"),
            },
            key=("department", "from", "to"),
            required=("department", "from", "to", "reason"),
            readers=STAFF_READERS,
            defaults=list,
            row_checks=(_from_not_after_to,),
        ),
        TableSpec(
            name="qualifications",
            title="Qualifications and credentials",
            description="Skills a shift replacement may need, and how long credentials last (§2.2, §5).",
            properties={
                "code": _code("the qualification, e.g. medical_accreditation"),
                "title": _text("what it is"),
                "needs_credential": _bool("holding it needs a dated credential", False),
                "validity_months": _count("months a credential stays valid", minimum=1),
                "periodic_accreditation": _bool(
                    "renewed by periodic accreditation (§5.1): the accreditation route and its reminders",
                    False,
                ),
            },
            key=("code",),
            required=("code", "title"),
            readers=STAFF_READERS,
            defaults=_qualifications,
            row_checks=(_validity_with_credential,),
        ),
        TableSpec(
            name="mandatory_trainings",
            title="Mandatory training and attestation",
            description="Training people must repeat, how often, and whether an overdue one stops "
            "work admission (§5.2). A person's last date is a qualification with the same code.",
            properties={
                "code": _code("the training, e.g. labour_safety; the person's qualification code"),
                "title": _text("what it is"),
                "period_months": _count("months between two trainings", nullable=False, minimum=1),
                "due_soon_days": {
                    "type": "integer",
                    "minimum": 0,
                    "default": 30,
                    "description": "days before the due date from which it is due soon",
                },
                "blocks_admission": _bool("overdue: the person's work admission (допуск) is off", True),
                "basis": _text("the rule that requires it", optional=True),
            },
            key=("code",),
            required=("code", "title", "period_months"),
            readers=STAFF_READERS,
            defaults=_mandatory_trainings,
        ),
        TableSpec(
            name="bonus_funds",
            title="Bonus funds",
            # Caps per bonus type and the approval chain are not a table: they are the DMN decisions
            # bonus_limit_check and bonus_route of processes/bonus, which HR edits at /api/v1/decisions.
            description="Money each department may pay as bonuses in a period.",
            properties={
                "department": _department("department code; '*' for the company reserve"),
                "period": {
                    "type": "string",
                    "pattern": r"^\d{4}(-\d{2}|-Q[1-4])?$",
                    "description": "YYYY, YYYY-MM or YYYY-Qn",
                },
                "amount": {"type": "number", "minimum": 0, "description": "roubles"},
            },
            key=("department", "period"),
            required=("department", "period", "amount"),
            readers=STAFF_READERS,
            defaults=list,
            row_checks=(_period_shape,),
        ),
        TableSpec(
            name="leave_schedule",
            title="Leave schedule",
            # ст. 123: the schedule binds both sides; the employee is told each start two weeks ahead
            # (the leave_schedule_notices sweep reads this table and sends the notices).
            description="The leave schedule (график отпусков): who goes on leave when, per ст. 123.",
            properties={
                "email": _text("the employee's e-mail", max_length=254),
                "start": _date("first day of the leave"),
                "days": _count("calendar days", nullable=False, minimum=1),
                "leave_type": _code("a leave type code, usually annual") | {"default": "annual"},
            },
            key=("email", "start"),
            required=("email", "start", "days"),
            # Everyone's leave dates: the people who plan around them, not every colleague.
            readers=frozenset({"hr", "admin", "manager"}),
            defaults=list,
        ),
        TableSpec(
            name="certificate_slas",
            title="Certificate deadlines",
            description="Working days to issue each certificate (ст. 62: at most 3); generated or not.",
            properties={
                "certificate_type": _code("employment, used_leave, visa, ndfl, ..."),
                "title": _text("name of the certificate", optional=True),
                "working_days": _count("working days from the application", nullable=False, minimum=1),
                "auto": _bool("generated from data without HR", False),
                "legal": _bool("set by law: HR may shorten it, not lengthen it", False),
                "count_filing_day": _bool(
                    "the filing day is day 1 if it is a working day (garant.ru's reading); off: the next day",
                    True,
                ),
            },
            key=("certificate_type",),
            required=("certificate_type", "working_days"),
            readers=EVERYONE,
            defaults=_certificate_slas,
            legal=tuple(
                LegalLimit((kind,), "working_days", at_most=3, basis="ст. 62 ТК РФ")
                for kind in _CERTIFICATE_TYPES
            ),
        ),
    )
}


def get_spec(name: str) -> TableSpec | None:
    """The catalog entry of table ``name``, or None."""
    return TABLES.get(name)
