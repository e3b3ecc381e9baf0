"""`approute rules list|export|import` as an operator runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.cli.test_cli import Shell
from tests.conftest import _create_postgres_database, _drop_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def shell(request, tmp_path):
    """A fresh database of each kind, set up with `approute init` (the migrations)."""
    if request.param == "sqlite":
        run = Shell(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    else:
        run = Shell(_create_postgres_database())
    assert run("init").returncode == 0
    yield run
    if request.param == "postgresql":
        _drop_postgres_database(run.database_url)


def _line_of(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(name + " "))


def test_list_export_edit_import_and_export_again(shell, tmp_path):
    listed = shell("rules", "list")
    assert listed.returncode == 0, listed.stderr
    assert "leave_types" in listed.stdout and "v0" in listed.stdout and "bonus_funds" in listed.stdout

    exported = tmp_path / "leave_types.csv"
    result = shell("rules", "export", "leave_types", "--output", str(exported))
    assert result.returncode == 0, result.stderr
    assert "leave_types version 0: 5 rows" in result.stdout
    data = exported.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "Ежегодный основной оплачиваемый отпуск" in text

    edited = text.replace(";Annual paid leave;true;28;", ";Annual paid leave;true;31;")
    assert edited != text
    exported.write_bytes(("\ufeff" + edited).encode())
    imported = shell("rules", "import", "leave_types", str(exported), "--comment", "коллективный договор")
    assert imported.returncode == 0, imported.stderr
    assert "imported: leave_types version 1 (0 added, 0 removed, 1 changed)" in imported.stdout

    again = shell("rules", "import", "leave_types", str(exported))
    assert again.returncode == 0 and "unchanged: leave_types version 1" in again.stdout

    to_stdout = shell("rules", "export", "leave_types")
    assert to_stdout.returncode == 0
    # The shell reads stdout as text, so the file's CRLF line ends arrive as LF.
    assert to_stdout.stdout.lstrip("\ufeff") == edited.replace("\r\n", "\n")
    assert " v1 " in _line_of(shell("rules", "list").stdout, "leave_types")


def test_a_refused_import_lists_each_bad_row_and_exits_1(shell, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code;title_ru;paid;days_per_year\n"
        "annual;Ежегодный;true;20\n"
        "Study;Учебный;может быть;\n"
        "additional;Дополнительный;true;\n"
        "unpaid_agreed;За свой счёт;false;\n"
        "unpaid_mandatory;Обязательный;false;\n",
        encoding="utf-8",
    )
    result = shell("rules", "import", "leave_types", str(bad))

    assert result.returncode == 1
    assert "refused:" in result.stderr and "nothing was saved" in result.stderr
    assert "row 2, days_per_year: may not be below 28" in result.stderr
    assert "row 3, code:" in result.stderr
    assert "row 3, paid: must be true or false, not 'может быть'" in result.stderr
    assert " v0 " in _line_of(shell("rules", "list").stdout, "leave_types")


def test_an_unknown_table_is_an_error(shell, tmp_path):
    result = shell("rules", "export", "salaries")
    assert result.returncode == 1
    assert "no rule table named 'salaries'" in result.stderr
