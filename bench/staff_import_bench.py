"""The staff import on PostgreSQL: 10,000 rows must import in under 10 seconds.

What it measures (wall clock, ``time.perf_counter`` around ``import_staff`` plus its commit, in
one process, the way ``approute import-staff`` runs it):

* a fresh PostgreSQL database ``approute_staff_bench_<pid>`` is created and set up with the real
  migrations; it is dropped at the end;
* a generated payroll export of 10,000 rows (``;``-separated, Russian headers, UTF-8 with a BOM):
  Russian names, a director over divisions over departments of 10 to 40 people, three levels,
  every department with a head the others report to;
* the first import (everyone created), a re-import with 5% of the rows changed (position, phone,
  or a move to another department with a new manager), and an unchanged re-import.

The issue asks for absolute seconds against the 10 s bar, so that is what is printed, with rows/s.
Nothing asserts timings. Run it with ``.venv/bin/python bench/staff_import_bench.py`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.db import make_engine, make_session_factory, session_scope  # noqa: E402
from engine.migrate import upgrade_database  # noqa: E402
from engine.services.staff_import import import_staff  # noqa: E402

PG_SERVER = os.environ.get("APPROUTE_BENCH_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432")
ADMIN_URL = f"{PG_SERVER}/test"
BAR_SECONDS = 10.0
HEADER = (
    "Табельный номер;ФИО;Электронная почта;Телефон;Должность;Код подразделения;Подразделение;"
    "Табельный номер руководителя;Дата приема;Сменный график;Медицинская специальность"
)
MALE = (
    ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков"),
    ("Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья", "Кирилл", "Михаил"),
    ("Александрович", "Дмитриевич", "Сергеевич", "Андреевич", "Алексеевич", "Игоревич", "Олегович"),
)
FEMALE = (
    ("Иванова", "Смирнова", "Кузнецова", "Попова", "Васильева", "Петрова", "Соколова", "Михайлова"),
    ("Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Екатерина", "Светлана", "Юлия"),
    ("Александровна", "Дмитриевна", "Сергеевна", "Андреевна", "Алексеевна", "Игоревна", "Олеговна"),
)
POSITIONS = ("Специалист", "Ведущий специалист", "Инженер", "Бухгалтер", "Менеджер", "Оператор", "Аналитик")
SPECIALTIES = ("терапия", "хирургия", "педиатрия", "сестринское дело")


def generate(rows: int, rng: random.Random) -> list[list[str]]:
    """A payroll export of ``rows`` people in a three-level tree; each row is a list of cells."""
    people: list[list[str]] = []

    def person(department: str, name: str, manager: str, position: str) -> str:
        number = f"{len(people) + 1:06d}"
        surnames, first, patronymics = rng.choice((MALE, FEMALE))
        full_name = f"{rng.choice(surnames)} {rng.choice(first)} {rng.choice(patronymics)}"
        hired = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2000, 2024)}"
        medical = department.startswith("MED")
        people.append(
            [
                number,
                full_name,
                f"user{number}@staff.example",
                f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{number[-2:]}",
                position,
                department,
                name,
                manager,
                hired,
                "да" if medical and rng.random() < 0.5 else "нет",
                rng.choice(SPECIALTIES) if medical else "",
            ]
        )
        return number

    director = person("HQ", "Дирекция", "", "Генеральный директор")
    division = 0
    while len(people) < rows:
        division += 1
        code = f"DIV{division:02d}" if division % 5 else f"MED{division:02d}"
        div_head = person(code, f"Дирекция по направлению {division}", director, "Директор по направлению")
        for unit in range(1, rng.randint(10, 20)):
            if len(people) >= rows:
                break
            dept = f"{code}-{unit:02d}"
            name = f"Отдел {unit} направления {division}"
            head = person(dept, name, div_head, "Начальник отдела")
            for _ in range(rng.randint(9, 39)):
                if len(people) >= rows:
                    break
                person(dept, name, head, rng.choice(POSITIONS))
    return people


def change_some(people: list[list[str]], share: float, rng: random.Random) -> int:
    """Change ``share`` of the rows: a new position, a new phone, or a move to another department."""
    changed = rng.sample(range(1, len(people)), int(len(people) * share))
    heads = {row[5]: row[0] for row in people if row[4] == "Начальник отдела"}
    departments = {row[5]: row[6] for row in people if row[5] in heads}
    for index in changed:
        row = people[index]
        what = rng.random()
        if what < 0.4 and row[4] not in ("Начальник отдела", "Директор по направлению"):
            code = rng.choice(list(heads))
            row[5], row[6], row[7] = code, departments[code], heads[code]
        elif what < 0.7:
            row[4] = rng.choice(POSITIONS) + " 2 категории"
        else:
            row[3] = row[3][:-2] + f"{rng.randint(0, 99):02d}"
    return len(changed)


def to_csv(people: list[list[str]]) -> bytes:
    return ("\ufeff" + HEADER + "\n" + "\n".join(";".join(row) for row in people) + "\n").encode()


def timed_import(sessions, data: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    with session_scope(sessions) as session:
        report = import_staff(session, io.BytesIO(data), actor=None)
    return time.perf_counter() - started, report.as_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    people = generate(args.rows, rng)
    departments = len({row[5] for row in people})

    name = f"approute_staff_bench_{os.getpid()}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    try:
        upgrade_database(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        first_s, first = timed_import(sessions, to_csv(people))
        changed = change_some(people, 0.05, rng)
        second_s, second = timed_import(sessions, to_csv(people))
        third_s, third = timed_import(sessions, to_csv(people))
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    rows = len(people)
    print()
    print("=" * 96)
    print(f"staff import on PostgreSQL: {rows} rows, {departments} departments, 3 levels")
    print(f"Bar: {rows} rows in under {BAR_SECONDS:.0f} s")
    print("=" * 96)
    print(f"  {'run':<44} {'seconds':>9} {'rows/s':>9}  {'created/updated/unchanged/dismissed':>36}")
    for label, seconds, report in (
        ("first import (everyone new)", first_s, first),
        (f"re-import, {changed} rows (5%) changed", second_s, second),
        ("re-import, nothing changed", third_s, third),
    ):
        c = report["counts"]
        outcome = f"{c['created']}/{c['updated']}/{c['unchanged']}/{c['dismissed']}"
        print(f"  {label:<44} {seconds:>9.2f} {rows / seconds:>9.0f}  {outcome:>36}")
    met = max(first_s, second_s, third_s) < BAR_SECONDS
    print(f"  10 s bar met by every run: {'yes' if met else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
