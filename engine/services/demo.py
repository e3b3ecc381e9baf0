"""The demo organisation `make run` seeds, so a newcomer can use the API at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import User
from engine.services import coordinators, credentials, org, rule_tables, users

DEMO_DOMAIN = "demo.approute.test"
# Every demo person was hired on this day, so each has years of annual leave on the ledger (L-04).
DEMO_HIRE_DATE = date(2020, 1, 13)


@dataclass(frozen=True)
class DemoPerson:
    key: str
    email: str
    name: str
    roles: tuple[str, ...]
    manager: str | None = None
    department: str | None = None


DEMO_PEOPLE = (
    DemoPerson(
        "director", f"director@{DEMO_DOMAIN}", "Дмитрий Директоров", ("manager", "employee"), None, "HQ"
    ),
    DemoPerson("hr", f"hr@{DEMO_DOMAIN}", "Ольга Кадрова", ("hr", "employee"), "director", "HR"),
    DemoPerson(
        "designer", f"designer@{DEMO_DOMAIN}", "Денис Схемов", ("designer", "employee"), "director", "HQ"
    ),
    DemoPerson(
        "manager_sales",
        f"sales.head@{DEMO_DOMAIN}",
        "Марина Продажина",
        ("manager", "employee"),
        "director",
        "SALES",
    ),
    DemoPerson(
        "manager_ops", f"ops.head@{DEMO_DOMAIN}", "Олег Сменов", ("manager", "employee"), "director", "OPS"
    ),
    DemoPerson(
        "employee_sales_1", f"anna@{DEMO_DOMAIN}", "Анна Иванова", ("employee",), "manager_sales", "SALES"
    ),
    DemoPerson(
        "employee_sales_2", f"boris@{DEMO_DOMAIN}", "Борис Петров", ("employee",), "manager_sales", "SALES"
    ),
    DemoPerson("employee_ops_1", f"vera@{DEMO_DOMAIN}", "Вера Сидорова", ("employee",), "manager_ops", "OPS"),
    DemoPerson("employee_ops_2", f"gleb@{DEMO_DOMAIN}", "Глеб Кузнецов", ("employee",), "manager_ops", "OPS"),
)


def seed_demo(session: Session) -> list[tuple[DemoPerson, User, str]]:
    """Create the demo people (once) and issue each a fresh API token."""
    by_key = {p.key: p for p in DEMO_PEOPLE}
    seeded = []
    for person in DEMO_PEOPLE:
        user = session.scalar(select(User).where(User.email == person.email))
        if user is None:
            manager_email = by_key[person.manager].email if person.manager else None
            user = users.create_user(
                session,
                email=person.email,
                name=person.name,
                roles=person.roles,
                manager_email=manager_email,
                department=person.department,
            )
            user.hire_date = DEMO_HIRE_DATE
        seeded.append((person, user, users.create_token(session, email=person.email)))
    _seed_departments(session, {person.key: user for person, user, _token in seeded})
    return seeded


DEMO_PASSWORD = "approute-demo"  # noqa: S105 - printed by `approute demo`; demo people only


def give_demo_passwords(session: Session, people: list[User]) -> None:
    """Let the demo people sign in on the web with DEMO_PASSWORD, unless they have set their own.

    Kept out of seed_demo: argon2 is slow on purpose, and the tests seed the demo constantly.
    """
    for user in people:
        if user.password_hash is None:
            user.password_hash = credentials.hash_password(DEMO_PASSWORD)


DEMO_DEPARTMENTS = (
    # code, name, parent, head, HR partner
    ("HQ", "Дирекция", None, "director", "hr"),
    ("HR", "Отдел кадров", "HQ", "hr", "hr"),
    ("SALES", "Отдел продаж", "HQ", "manager_sales", "hr"),
    ("OPS", "Служба эксплуатации", "HQ", "manager_ops", "hr"),
)


def _seed_departments(session: Session, people: dict[str, User]) -> None:
    for code, name, parent, head, partner in DEMO_DEPARTMENTS:
        org.upsert_department(
            session, code=code, name=name, parent_code=parent, head=people[head], hr_partner=people[partner]
        )


# --- the bonus route's demo facts (`approute demo` only: tests seed the demo people constantly and
# expect rule tables at version 0 and no coordinators) ---------------------------------------------

DEMO_SALARIES = {
    "director": Decimal(400_000),
    "hr": Decimal(150_000),
    "designer": Decimal(180_000),
    "manager_sales": Decimal(220_000),
    "manager_ops": Decimal(200_000),
    "employee_sales_1": Decimal(100_000),
    "employee_sales_2": Decimal(90_000),
    "employee_ops_1": Decimal(95_000),
    "employee_ops_2": Decimal(85_000),
}
DEMO_BONUS_FUNDS = {"HQ": 300_000, "HR": 200_000, "SALES": 500_000, "OPS": 400_000}  # roubles a year
# Who acts on each step code of processes/bonus/bonus_route.dmn other than dept_director and
# hr_bp_check (those follow the department). The demo has no CFO or CEO: the director stands in.
DEMO_BONUS_COORDINATORS = {
    "cfo": "director",
    "ceo": "director",
    "finance_controller": "director",
    "hr_director": "hr",
}


def seed_bonus_demo(session: Session, people: dict[str, User], *, year: int) -> list[str]:
    """Give the demo people salaries, the demo departments a bonus fund for ``year`` and the bonus
    steps their coordinators, so a manager can file a bonus that routes. What is set stays set.

    Returns what was set, for the command to print (no values: salaries are personal data).
    """
    done = []
    salaried = [key for key, salary in DEMO_SALARIES.items() if people[key].monthly_salary is None]
    for key in salaried:
        people[key].monthly_salary = DEMO_SALARIES[key]
    if salaried:
        done.append(f"monthly salaries of {len(salaried)} people")
    _version, rows = rule_tables.table_rows(session, "bonus_funds")
    # A department with any row for the year (the year, a quarter or a month) has its fund planned.
    planned = {row["department"] for row in rows if str(row["period"]).startswith(str(year))}
    added = [
        {"department": code, "period": str(year), "amount": amount}
        for code, amount in DEMO_BONUS_FUNDS.items()
        if code not in planned
    ]
    if added:
        rule_tables.replace_rows(session, "bonus_funds", rows + added, actor=None, comment="approute demo")
        done.append(f"bonus funds {year} of {', '.join(row['department'] for row in added)}")
    named = []
    for step, key in DEMO_BONUS_COORDINATORS.items():
        request_type = f"bonus.{step}"
        if coordinators.coordinator_for(session, request_type) is None:
            coordinators.set_coordinator(
                session, request_type=request_type, email=people[key].email, actor=None
            )
            named.append(request_type)
    if named:
        done.append(f"coordinators {', '.join(named)}")
    return done
