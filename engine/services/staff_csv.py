"""Reading the payroll system's staff CSV: encoding, separator, headers and one checked row per person.

This module knows the file format only; ``staff_import`` decides what the rows do to the database.
Messages never repeat a cell's value (names, e-mails, dates are personal data); the personnel
number is the one identifier they may carry.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from engine.errors import InvalidData
from engine.services.person_facts import check_qualification_code, parse_salary

REQUIRED = (
    "personnel_number",
    "full_name",
    "email",
    "phone",
    "position",
    "department_code",
    "department_name",
    "manager_personnel_number",
    "hire_date",
)
OPTIONAL = ("parent_department_code", "shift_worker", "medical_specialty", "monthly_salary", "qualifications")
# Facts about people: a file without the column leaves what is stored alone.
FACT_COLUMNS = ("monthly_salary", "qualifications")

# Header spellings, compared after _normalise_header (lower case, ё→е, "_" and runs of spaces → one space).
ALIASES = {
    "personnel_number": ("табельный номер", "таб. номер", "таб номер", "табельный №", "personnel number"),
    "full_name": ("фио", "ф.и.о.", "full name"),
    "email": ("email", "e-mail", "электронная почта", "эл. почта", "почта"),
    "phone": ("телефон", "phone"),
    "position": ("должность", "position"),
    "department_code": ("код подразделения", "department code"),
    "department_name": ("подразделение", "наименование подразделения", "department name"),
    "manager_personnel_number": (
        "табельный номер руководителя",
        "таб. номер руководителя",
        "manager personnel number",
    ),
    "hire_date": ("дата приема", "дата приема на работу", "hire date"),
    "parent_department_code": (
        "код вышестоящего подразделения",
        "код родительского подразделения",
        "parent department code",
    ),
    "shift_worker": ("сменный график", "shift worker"),
    "medical_specialty": ("медицинская специальность", "medical specialty"),
    "monthly_salary": (
        "оклад",
        "оклад, руб",
        "оклад (руб.)",
        "должностной оклад",
        "monthly salary",
        "salary",
    ),
    "qualifications": ("квалификации", "квалификация", "qualifications"),
}
# The name a column is called by in messages to HR.
LABELS = {
    "personnel_number": "Табельный номер",
    "full_name": "ФИО",
    "email": "Email",
    "phone": "Телефон",
    "position": "Должность",
    "department_code": "Код подразделения",
    "department_name": "Подразделение",
    "manager_personnel_number": "Табельный номер руководителя",
    "hire_date": "Дата приема",
    "parent_department_code": "Код вышестоящего подразделения",
    "shift_worker": "Сменный график",
    "medical_specialty": "Медицинская специальность",
    "monthly_salary": "Оклад",
    "qualifications": "Квалификации",
}
LIMITS = {
    "personnel_number": 32,
    "full_name": 200,
    "email": 254,
    "phone": 40,
    "position": 200,
    "department_code": 64,
    "department_name": 255,
    "manager_personnel_number": 32,
    "parent_department_code": 64,
    "medical_specialty": 200,
    "monthly_salary": 40,
    "qualifications": 2000,
}
TRUE_WORDS = {"да", "1", "true", "yes", "y", "д"}
FALSE_WORDS = {"нет", "0", "false", "no", "n", "н"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d")


@dataclass
class StaffRow:
    """One person as the file describes them; ``row`` is the spreadsheet row (the header is row 1)."""

    row: int
    personnel_number: str
    full_name: str
    email: str
    phone: str | None
    position: str | None
    department_code: str | None
    department_name: str | None
    manager_personnel_number: str | None
    hire_date: date | None
    parent_department_code: str | None
    # Only the flags whose columns the file has: a missing column leaves a stored flag alone.
    flags: dict[str, Any] = field(default_factory=dict)
    flag_columns: tuple[str, ...] = ()
    # Facts, meaningful only for the columns in ``fact_columns`` (an empty cell there clears them).
    monthly_salary: Decimal | None = None
    qualifications: list[tuple[str, date | None]] = field(default_factory=list)
    fact_columns: tuple[str, ...] = ()


@dataclass
class RejectedRow:
    row: int
    personnel_number: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "personnel_number": self.personnel_number, "reason": self.reason}


@dataclass
class ParsedFile:
    """The checked rows of a file, the rows refused for their own content, and notes on the header."""

    rows: list[StaffRow]
    rejected: list[RejectedRow]
    total: int
    flag_columns: tuple[str, ...]
    notes: list[str]


def _normalise_header(text: str) -> str:
    text = text.strip().strip('"').lower().replace("ё", "е").replace("_", " ")
    return " ".join(text.split())


HEADER_KEYS = {_normalise_header(alias): key for key, names in ALIASES.items() for alias in (key, *names)}


def decode(source: bytes | str | IO) -> str:
    """The file's text: UTF-8 with an optional BOM. Raises InvalidData for any other encoding."""
    data = source.read() if hasattr(source, "read") else source
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidData(
            "the file is not UTF-8 text; nothing was imported",
            [{"field": "file", "message": f"line {line}: not UTF-8; save the export as «CSV UTF-8»"}],
        ) from None


def detect_separator(header_line: str) -> str:
    """``;`` or ``,``: whichever the header row uses more (payroll exports use one or the other)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def map_header(cells: list[str]) -> dict[str, int]:
    """Column key → cell index. Raises InvalidData naming every required column that is missing."""
    columns: dict[str, int] = {}
    problems = []
    for index, cell in enumerate(cells):
        key = HEADER_KEYS.get(_normalise_header(cell))
        if key is None:
            continue
        if key in columns:
            problems.append({"field": key, "message": f"column «{LABELS[key]}» appears twice in the header"})
        columns[key] = index
    for key in REQUIRED:
        if key not in columns:
            names = " / ".join((LABELS[key], key))
            problems.append({"field": key, "message": f"missing column «{names}»"})
    if problems:
        missing = [p["field"] for p in problems if p["message"].startswith("missing")]
        message = (
            f"the header lacks required columns: {', '.join(LABELS[k] for k in missing)}"
            if missing
            else "the header names a column twice"
        )
        raise InvalidData(message + "; nothing was imported", problems)
    return columns


def parse_date(text: str) -> date:
    """dd.mm.yyyy or yyyy-mm-dd. Raises ValueError."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse(source: bytes | str | IO) -> ParsedFile:
    """Read and check a staff file. Raises InvalidData if the file as a whole cannot be read.

    Rows whose own content is wrong (a missing number, a bad e-mail or date, a number or e-mail that
    an earlier row already used) come back in ``rejected``; the first row with a number or e-mail wins.
    """
    text = decode(source)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise InvalidData(
            "the file is empty or starts with a blank line; the first row must be the header",
            [{"field": "file", "message": "no header row"}],
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_separator(first_line))
    try:
        records = list(reader)
    except csv.Error as exc:
        raise InvalidData(
            "the file is not valid CSV; nothing was imported",
            [{"field": "file", "message": f"line {reader.line_num}: {exc}"}],
        ) from None
    columns = map_header(records[0])
    flag_columns = tuple(k for k in ("shift_worker", "medical_specialty") if k in columns)
    fact_columns = tuple(k for k in FACT_COLUMNS if k in columns)
    notes = [
        f"column «{cell.strip()}» is not one approute reads; it was ignored"
        for cell in records[0]
        if cell.strip() and _normalise_header(cell) not in HEADER_KEYS
    ]
    parsed = ParsedFile(rows=[], rejected=[], total=0, flag_columns=flag_columns, notes=notes)
    seen_numbers: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for row_number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line is not a person
        parsed.total += 1
        values = {key: (cells[i].strip() if i < len(cells) else "") for key, i in columns.items()}
        number = values["personnel_number"] or None
        try:
            row = _check_row(row_number, values, flag_columns, fact_columns)
        except ValueError as exc:
            parsed.rejected.append(RejectedRow(row_number, number, str(exc)))
            continue
        if row.personnel_number in seen_numbers:
            reason = f"personnel number repeats row {seen_numbers[row.personnel_number]}"
            parsed.rejected.append(RejectedRow(row_number, number, reason))
            continue
        if row.email in seen_emails:
            reason = f"e-mail repeats row {seen_emails[row.email]}"
            parsed.rejected.append(RejectedRow(row_number, number, reason))
            continue
        seen_numbers[row.personnel_number] = row_number
        seen_emails[row.email] = row_number
        parsed.rows.append(row)
    return parsed


def _check_row(
    row_number: int, values: dict[str, str], flag_columns: tuple[str, ...], fact_columns: tuple[str, ...] = ()
) -> StaffRow:
    """One row's values checked and converted. Raises ValueError with the reason (no cell values)."""
    for key, limit in LIMITS.items():
        if len(values.get(key, "")) > limit:
            raise ValueError(f"«{LABELS[key]}» is longer than {limit} characters")
    if not values["personnel_number"]:
        raise ValueError("missing personnel number")
    if not values["full_name"]:
        raise ValueError("missing full name")
    email = values["email"].lower()
    if not email:
        raise ValueError("missing e-mail")
    if not EMAIL.match(email):
        raise ValueError("e-mail is not a valid address")
    hire_date = None
    if values["hire_date"]:
        try:
            hire_date = parse_date(values["hire_date"])
        except ValueError:
            raise ValueError("hire date is not a date; use dd.mm.yyyy or yyyy-mm-dd") from None
    flags: dict[str, Any] = {}
    if "shift_worker" in flag_columns and values["shift_worker"]:
        word = values["shift_worker"].lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError("«Сменный график» must be да/нет, 1/0 or true/false")
        flags["shift_worker"] = word in TRUE_WORDS
    if "medical_specialty" in flag_columns and values["medical_specialty"]:
        flags["medical_specialty"] = values["medical_specialty"]
    salary = None
    if "monthly_salary" in fact_columns and values["monthly_salary"]:
        try:
            salary = parse_salary(values["monthly_salary"])
        except ValueError as exc:
            raise ValueError(f"«Оклад»: {exc}") from None
    qualifications = []
    if "qualifications" in fact_columns:
        qualifications = parse_qualifications(values["qualifications"])
    manager_number = values["manager_personnel_number"] or None
    return StaffRow(
        row=row_number,
        personnel_number=values["personnel_number"],
        full_name=" ".join(values["full_name"].split()),
        email=email,
        phone=values["phone"] or None,
        position=values["position"] or None,
        department_code=values["department_code"] or None,
        department_name=values["department_name"] or None,
        manager_personnel_number=manager_number,
        hire_date=hire_date,
        parent_department_code=values.get("parent_department_code") or None,
        flags=flags,
        flag_columns=flag_columns,
        monthly_salary=salary,
        qualifications=qualifications,
        fact_columns=fact_columns,
    )


def parse_qualifications(cell: str) -> list[tuple[str, date | None]]:
    """«Квалификации»: ``CODE:YYYY-MM-DD`` items (valid until that day) separated by ``|``.

    ``CODE`` alone is a qualification that does not expire; the date may also be dd.mm.yyyy.
    Raises ValueError naming the item's position (never its text).
    """
    found: dict[str, date | None] = {}
    items = [item.strip() for item in cell.split("|")]
    for position, item in enumerate(items, start=1):
        if not item:
            continue
        code, _, until_text = item.partition(":")
        try:
            code = check_qualification_code(code)
        except ValueError:
            raise ValueError(
                f"«Квалификации» item {position}: the code must be Latin letters, digits, '_', '.' or '-'"
            ) from None
        until = None
        if until_text.strip():
            try:
                until = parse_date(until_text.strip())
            except ValueError:
                raise ValueError(
                    f"«Квалификации» item {position}: the date is not a date; use CODE:YYYY-MM-DD"
                ) from None
        if code in found:
            raise ValueError(f"«Квалификации» item {position}: the code repeats an earlier item")
        found[code] = until
    return list(found.items())
