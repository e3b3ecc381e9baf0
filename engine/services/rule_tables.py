"""Rule tables HR edits: read any version, replace the rows with a new version, diff, CSV in and out.

A table that was never edited reads as version 0: the catalog's default rows (``rules.tables``),
computed, not stored, so reading never writes. The first change stores version 1, with its diff
against those defaults. Versions are immutable; a change always writes a whole new version.

A replacement is all-or-nothing: every bad row is reported (row number, column, reason) and
nothing is written, so HR fixes the rows and sends the table again. Concurrent editors are
caught by the version they read (``expected_version``, the API's ETag): the later one is refused.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.errors import EngineError, Forbidden, InvalidData, NotFound
from engine.models import RuleTable, RuleTableVersion, User
from engine.models._types import utcnow
from engine.services import audit
from rules.tables import TABLES, TableSpec

MAX_ROWS = 10_000
CSV_DELIMITER = ";"
_TRUE = {"true", "yes", "y", "1", "да", "д", "истина"}
_FALSE = {"false", "no", "n", "0", "нет", "н", "ложь"}
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class StaleVersion(EngineError):
    """The table changed since the caller read it; nothing was written (HTTP 412)."""

    def __init__(self, name: str, expected: int, current: int, changed_by: str | None, changed_at):
        who = changed_by or "the command line"
        when = changed_at.strftime("%Y-%m-%d %H:%M:%S UTC") if changed_at else "an unknown time"
        super().__init__(
            f"{name} was changed by {who} at {when} since you read it (you read version {expected}, "
            f"it is now version {current}): read it again and reapply your change"
        )
        self.current = current


@dataclass(frozen=True)
class TableState:
    """One version of a table as read: its rows and who made it."""

    spec: TableSpec
    version: int
    rows: list[dict[str, Any]]
    updated_at: datetime | None = None
    updated_by: str | None = None  # e-mail; None for version 0 or the command line
    comment: str = ""
    diff: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def etag(self) -> str:
        """The entity tag of this version, without quotes: ``<name>-v<version>``."""
        return f"{self.spec.name}-v{self.version}"


# --- reading -------------------------------------------------------------------------------------


def get_spec(name: str) -> TableSpec:
    """The catalog entry of ``name``. Raises NotFound for a table the catalog does not have."""
    spec = TABLES.get(name)
    if spec is None:
        raise NotFound(f"no rule table named '{name}'; the tables are: {', '.join(TABLES)}")
    return spec


def check_may_read(spec: TableSpec, user: User) -> None:
    """Raises Forbidden unless ``user`` holds a role that may read the table (see the catalog)."""
    if not spec.may_read(user.roles):
        raise Forbidden(f"the rule table {spec.name} is readable by: {', '.join(sorted(spec.readers))}")


def check_may_write(spec: TableSpec, user: User) -> None:
    """Raises Forbidden unless ``user`` may replace the table's rows (HR and admins)."""
    if not spec.may_write(user.roles):
        raise Forbidden(f"the rule table {spec.name} is changed by: {', '.join(sorted(spec.writers))}")


def readable_tables(user: User) -> list[TableSpec]:
    """The catalog entries ``user`` may read, in catalog order."""
    return [spec for spec in TABLES.values() if spec.may_read(user.roles)]


def current(session: Session, name: str) -> TableState:
    """The current version of table ``name``. Raises NotFound for an unknown table."""
    spec = get_spec(name)
    row = session.scalar(select(RuleTable).where(RuleTable.name == name))
    if row is None or row.current_version == 0:
        return TableState(spec, 0, spec.default_rows())
    return get_version(session, name, row.current_version)


def table_rows(session: Session, name: str, version: int | None = None) -> tuple[int, list[dict[str, Any]]]:
    """(version, rows) of table ``name``: the current version, or the one asked for.

    This is what the calculators and decision records evaluate against: record the version with
    the decision. Raises NotFound for an unknown table or version.
    """
    state = current(session, name) if version is None else get_version(session, name, version)
    return state.version, state.rows


def get_version(session: Session, name: str, version: int) -> TableState:
    """One version of a table with its diff; version 0 is the catalog's defaults. Raises NotFound."""
    spec = get_spec(name)
    if version == 0:
        return TableState(spec, 0, spec.default_rows(), comment="the catalog's default rows")
    query = (
        select(RuleTableVersion, User.email)
        .join(RuleTable, RuleTable.id == RuleTableVersion.table_id)
        .outerjoin(User, User.id == RuleTableVersion.created_by_id)
        .where(RuleTable.name == name, RuleTableVersion.version == version)
    )
    found = session.execute(query).first()
    if found is None:
        raise NotFound(f"the rule table {name} has no version {version}")
    row, email = found
    return TableState(
        spec,
        row.version,
        [dict(r) for r in row.rows],
        updated_at=row.created_at,
        updated_by=email,
        comment=row.comment,
        diff=row.diff,
    )


def list_versions(session: Session, name: str) -> list[TableState]:
    """Every version of a table, newest first, ending with version 0 (the defaults)."""
    spec = get_spec(name)
    query = (
        select(RuleTableVersion, User.email)
        .join(RuleTable, RuleTable.id == RuleTableVersion.table_id)
        .outerjoin(User, User.id == RuleTableVersion.created_by_id)
        .where(RuleTable.name == name)
        .order_by(RuleTableVersion.version.desc())
    )
    states = [
        TableState(spec, row.version, row.rows, row.created_at, email, row.comment, row.diff)
        for row, email in session.execute(query)
    ]
    states.append(get_version(session, name, 0))
    return states


def list_current(session: Session, specs: Sequence[TableSpec]) -> list[TableState]:
    """The current version of each of ``specs`` (rows included), in the order given."""
    query = (
        select(RuleTable, User.email)
        .outerjoin(User, User.id == RuleTable.updated_by_id)
        .where(RuleTable.name.in_([s.name for s in specs]))
    )
    edited = {row.name: (row, email) for row, email in session.execute(query)}
    states = []
    for spec in specs:
        row, email = edited.get(spec.name, (None, None))
        if row is None or row.current_version == 0:
            states.append(TableState(spec, 0, []))
        else:
            states.append(TableState(spec, row.current_version, [], row.updated_at, email))
    return states


# --- changing ------------------------------------------------------------------------------------


def replace_rows(
    session: Session,
    name: str,
    rows: Any,
    *,
    actor: User | None,
    comment: str = "",
    expected_version: int | None = None,
    numbers: Sequence[int] | None = None,
) -> tuple[TableState, bool]:
    """Make ``rows`` the table's new version; returns (the current state, whether anything changed).

    ``expected_version`` is the version the editor read: if the table has moved on since, nothing
    is written and StaleVersion is raised (None skips the check: the command line). Rows equal to
    the current ones write no version. ``numbers`` name the rows in error messages (CSV line
    numbers); the default is their 1-based position. ``actor`` None is the command line.

    Raises NotFound, StaleVersion, and InvalidData listing every bad row as {row, field, message}.
    """
    spec = get_spec(name)
    if not isinstance(rows, list):
        raise InvalidData(
            "rows must be a list of objects", [{"row": None, "field": "rows", "message": "not a list"}]
        )
    if len(rows) > MAX_ROWS:
        raise InvalidData(
            f"a rule table holds at most {MAX_ROWS} rows",
            [{"row": None, "field": "rows", "message": f"{len(rows)} rows"}],
        )
    table = locked_table(session, name)
    if expected_version is not None and expected_version != table.current_version:
        changed_by = session.get(User, table.updated_by_id) if table.updated_by_id else None
        raise StaleVersion(
            name,
            expected_version,
            table.current_version,
            changed_by.email if changed_by else None,
            table.updated_at,
        )
    normalised = [spec.normalise(r) if isinstance(r, dict) else r for r in rows]
    problems = spec.validate(normalised, numbers)
    if problems:
        details = [{"row": row, "field": column, "message": message} for row, column, message in problems]
        bad = len({p[0] for p in problems if p[0] is not None})
        raise InvalidData(
            f"{spec.name}: {len(problems)} problems in {bad} rows; nothing was saved, fix them and send "
            "the table again",
            details,
        )
    before = current(session, name)
    diff = diff_rows(spec, before.rows, normalised)
    if not (diff["added"] or diff["removed"] or diff["changed"]):
        return before, False  # the same rows (in any order): no new version
    version = table.current_version + 1
    now = utcnow()
    session.add(
        RuleTableVersion(
            table_id=table.id,
            version=version,
            rows=normalised,
            diff=diff,
            comment=(comment or "").strip()[:2000],
            created_by_id=actor.id if actor else None,
            created_at=now,
        )
    )
    table.current_version = version
    table.updated_at = now
    table.updated_by_id = actor.id if actor else None
    session.flush()
    # Counts only: the rows themselves (allow-lists name people) stay in the version, not the audit.
    audit.record(
        session,
        "rule_table.changed",
        actor=actor,
        table=name,
        version=version,
        added=len(diff["added"]),
        removed=len(diff["removed"]),
        changed=len(diff["changed"]),
    )
    return get_version(session, name, version), True


def locked_table(session: Session, name: str) -> RuleTable:
    """The table's row, made on first change and locked until commit, so edits queue one by one."""
    query = select(RuleTable).where(RuleTable.name == name).with_for_update()
    row = session.scalar(query)
    if row is None:
        # Two first editors may race here; the loser's insert does nothing and its SELECT ... FOR
        # UPDATE then waits for the winner's commit, and sees the version the winner wrote.
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        values = {"name": name, "current_version": 0, "updated_at": utcnow()}
        session.execute(insert(RuleTable).values(values).on_conflict_do_nothing())
        row = session.scalar(query.execution_options(populate_existing=True))
    return row


def diff_rows(spec: TableSpec, before: list[dict], after: list[dict]) -> dict[str, list]:
    """What changed from ``before`` to ``after``, rows matched by key.

    ``added`` and ``removed`` hold whole rows; ``changed`` holds {key: {column: value}, changes:
    {column: {from, to}}} for rows whose key stayed and whose values did not.
    """
    old = {spec.key_of(r): r for r in before}
    new = {spec.key_of(r): r for r in after}
    changed = []
    for key, row in new.items():
        if key in old and old[key] != row:
            changes = {
                column: {"from": old[key].get(column), "to": row.get(column)}
                for column in spec.columns
                if old[key].get(column) != row.get(column)
            }
            changed.append({"key": dict(zip(spec.key, key, strict=True)), "changes": changes})
    return {
        "added": [row for key, row in new.items() if key not in old],
        "removed": [row for key, row in old.items() if key not in new],
        "changed": changed,
    }


def diff_counts(diff: dict[str, Any]) -> dict[str, int]:
    """The number of rows added, removed and changed by a diff."""
    return {part: len(diff.get(part, ())) for part in ("added", "removed", "changed")}


# --- CSV -----------------------------------------------------------------------------------------


def to_csv(spec: TableSpec, rows: list[dict[str, Any]]) -> bytes:
    """Rows as CSV: UTF-8 with a BOM (Excel reads Cyrillic right), ';' between cells, header first.

    Booleans are true/false, empty cells are null, lists are joined with ','.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(spec.columns)
    for row in rows:
        writer.writerow([_cell_text(row.get(column)) for column in spec.columns])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def from_csv(spec: TableSpec, data: bytes) -> tuple[list[dict[str, Any]], list[int]]:
    """(rows, their line numbers) from CSV bytes; the header names the columns (any order).

    ';' or ',' separate cells (taken from the header line); a BOM is fine. Cells are converted by
    their column's type; a cell that does not convert is kept as text, so validation names it.
    Raises InvalidData when the file is not UTF-8 or its header is wrong.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidData(
            "the file is not UTF-8 text: save it from Excel as 'CSV UTF-8'",
            [{"row": None, "field": "file", "message": f"byte {exc.start} is not UTF-8"}],
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line or "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise InvalidData(
            f"{spec.name}: the file is empty; the first line must name the columns",
            [{"row": 1, "field": "", "message": f"expected the columns {CSV_DELIMITER.join(spec.columns)}"}],
        )
    columns = _header(spec, header)
    rows, numbers = [], []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        row: dict[str, Any] = {}
        for index, cell in enumerate(cells):
            if index >= len(columns):
                if cell.strip():
                    row[f"column {index + 1}"] = cell  # named by validation as an unknown column
                continue
            value = _cell_value(spec.properties[columns[index]], cell)
            if value is not _OMIT:
                row[columns[index]] = value
        rows.append(row)
        numbers.append(reader.line_num)
    return rows, numbers


def _header(spec: TableSpec, header: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    problems = []
    for name in names:
        if name not in spec.properties:
            problems.append(
                {
                    "row": 1,
                    "field": name,
                    "message": f"unknown column; the columns are {', '.join(spec.columns)}",
                }
            )
    for name in {n for n in names if names.count(n) > 1}:
        problems.append({"row": 1, "field": name, "message": "the column is named twice"})
    for name in spec.required:
        if name not in names:
            problems.append({"row": 1, "field": name, "message": "required column missing"})
    if problems:
        raise InvalidData(f"{spec.name}: the header line is not right; nothing was saved", problems)
    return names


class _Omit:
    pass


_OMIT = _Omit()


def _cell_value(schema: dict[str, Any], cell: str) -> Any:
    kinds = schema.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    text = cell.strip()
    if text == "":
        if "null" in kinds:
            return None
        if "array" in kinds:
            return []
        if "string" in kinds:
            return ""
        return _OMIT  # the column's default applies, or validation says it is required
    if "boolean" in kinds:
        lowered = text.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    if "integer" in kinds:
        return int(text) if _INTEGER.match(text) else text
    if "number" in kinds:
        # Russian Excel writes 0,5: a decimal comma is accepted (';' separates the cells).
        dotted = text.replace(",", ".").replace(" ", "").replace("\u00a0", "")
        if _INTEGER.match(dotted):
            return int(dotted)
        return float(dotted) if _NUMBER.match(dotted) else text
    if "array" in kinds:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def import_csv(
    session: Session,
    name: str,
    data: bytes,
    *,
    actor: User | None,
    comment: str = "",
    expected_version: int | None = None,
) -> tuple[TableState, bool]:
    """Replace table ``name`` with the rows of a CSV file (see ``from_csv`` and ``replace_rows``).

    Errors name rows by their line in the file (the header is line 1).
    """
    spec = get_spec(name)
    rows, numbers = from_csv(spec, data)
    return replace_rows(
        session, name, rows, actor=actor, comment=comment, expected_version=expected_version, numbers=numbers
    )
