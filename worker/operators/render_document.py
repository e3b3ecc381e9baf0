"""The ``render_document`` operator: a certificate as a PDF, from a Jinja2 template, in Cyrillic.

The service task passes ``template`` (``certificate_<type>``) and optionally ``title``. The facts
are read fresh when the job runs, not copied from the request: the person's name, position,
department and hire date; the salary only for a 2-НДФЛ or an employment certificate the employee
asked to show it on (C-04); the leave ledger for a certificate of used leave. The HTML is turned
into a PDF by fpdf2 with the bundled DejaVu Sans font, and stored once per service task under the
register number the request was given.

2-НДФЛ: there is no payroll yet, so the income is the monthly salary on record, income code 2000,
for each closed month of the year (C-05: the months before the request's month), taxed at 13 %.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import Department, ProcessInstance, User
from engine.services import documents, leave_ledger, operators
from engine.services.operators import OperatorCall
from engine.services.routes import certificate, leave_records

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "documents"
FONTS = Path(__file__).resolve().parent.parent / "fonts"
FONT = "DejaVu"
TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
PDF = "application/pdf"
NDFL_RATE = Decimal("0.13")

MONTHS = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
LEAVE_TITLES = {
    "annual": "Ежегодный основной оплачиваемый отпуск",
    "additional": "Ежегодный дополнительный оплачиваемый отпуск",
    "unpaid_agreed": "Отпуск без сохранения заработной платы",
    "unpaid_mandatory": "Отпуск без сохранения заработной платы (ст. 128 ч. 2)",
    "study": "Учебный отпуск",
}


class TemplateMissing(ValueError):
    """The service task names a template approute does not ship."""


@dataclass(frozen=True)
class Organisation:
    """The employer's details printed on every certificate (env ``APPROUTE_ORG_*`` overrides)."""

    name: str
    name_latin: str
    inn: str
    kpp: str
    ogrn: str
    oktmo: str
    address: str
    phone: str
    signatory_position: str
    signatory_name: str

    @classmethod
    def from_env(cls) -> Organisation:
        """The organisation block; each field may be set by ``APPROUTE_ORG_<FIELD>``."""
        defaults = {
            "name": "ООО «Пример»",
            "name_latin": "Primer LLC",
            "inn": "7700000000",
            "kpp": "770001001",
            "ogrn": "1027700000000",
            "oktmo": "45000000",
            "address": "г. Москва, ул. Примерная, д. 1",
            "phone": "+7 495 000-00-00",
            "signatory_position": "Начальник отдела кадров",
            "signatory_name": "И. И. Иванов",
        }
        return cls(**{k: os.environ.get(f"APPROUTE_ORG_{k.upper()}") or v for k, v in defaults.items()})


_environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _ru_date(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else "—"


def _money(value: Decimal) -> str:
    amount = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = f"{amount:.2f}".split(".")
    return f"{int(whole):,}".replace(",", " ") + "," + cents


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render ``worker/templates/documents/<template>.html`` with ``context`` into PDF bytes."""
    if not TEMPLATE_NAME.match(template) or not (TEMPLATES / f"{template}.html").is_file():
        raise TemplateMissing(f"no document template named '{template}'")
    html = _environment.get_template(f"{template}.html").render(**context)
    pdf = FPDF(format="A4")
    pdf.set_title(str(context.get("title") or template))
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_font(FONT, size=11)
    pdf.add_page()
    pdf.write_html(html, font_family=FONT)
    return bytes(pdf.output())


# --- the facts ----------------------------------------------------------------------------------------


def _person(session: Session, user: User) -> dict[str, Any]:
    department = (
        session.scalar(select(Department).where(Department.code == user.department))
        if user.department
        else None
    )
    return {
        "name": user.name,
        "position": user.position or "",
        "department": department.name if department is not None else (user.department or ""),
        "hire_date": _ru_date(user.hire_date),
        "inn": (user.flags or {}).get("inn") or "",
    }


def _used_leave(session: Session, user: User, data: dict[str, Any], today: date) -> dict[str, Any]:
    as_of = date.fromisoformat(data["as_of"]) if data.get("as_of") else today
    state = leave_ledger.balance(session, user, as_of)
    rows = [
        {
            "title": LEAVE_TITLES.get(code, code),
            "entitled": f"{b.entitled.normalize():f}",
            "used": f"{b.used.normalize():f}",
            "available": f"{(b.accrued + b.carried + b.adjustments - b.used - b.reserved).normalize():f}",
        }
        for code, b in state.balances.items()
        if b.entitled or b.used or b.accrued or b.carried or b.adjustments
    ]
    leaves = [
        {
            "title": LEAVE_TITLES.get(leave.leave_type, leave.leave_type),
            "start": _ru_date(leave.start),
            "end": _ru_date(leave.end),
            "days": leave.days,
        }
        for leave in leave_records.leaves_of(session, [user.id])
        if leave.status == "approved" and leave.start <= as_of
    ]
    year = state.working_year
    return {
        "as_of": _ru_date(as_of),
        "working_year": {"start": _ru_date(year.start), "end": _ru_date(year.end)} if year else None,
        "balances": rows,
        "leaves": leaves,
    }


def _ndfl(user: User, data: dict[str, Any], today: date) -> dict[str, Any]:
    year = int(data["year"])
    salary = Decimal(user.monthly_salary or 0)
    months = certificate.closed_months(year, today)
    if user.hire_date is not None and user.hire_date.year == year:
        months = [m for m in months if m >= user.hire_date.month]
    total = salary * len(months)
    return {
        "year": year,
        "months": [{"month": MONTHS[m - 1], "amount": _money(salary)} for m in months],
        "total": _money(total),
        "tax": _money((total * NDFL_RATE).quantize(Decimal("1"), rounding=ROUND_HALF_UP)),
    }


def _visa(session: Session, user: User, data: dict[str, Any]) -> dict[str, Any]:
    start, end = date.fromisoformat(data["trip_from"]), date.fromisoformat(data["trip_to"])
    leave = certificate.covering_leave(session, user, start, end, data.get("leave_instance_id"))
    return {
        "name_latin": data.get("name_latin") or "",
        "country": data.get("country") or "",
        "trip_from": _ru_date(start),
        "trip_to": _ru_date(end),
        "leave": {"start": _ru_date(leave.start), "end": _ru_date(leave.end)} if leave else None,
    }


def context_for(
    session: Session, instance: ProcessInstance, data: dict[str, Any], number: str, title: str
) -> dict[str, Any]:
    """Everything a certificate template prints, read now from the records."""
    user = session.get(User, instance.initiator_id)
    today = clock.today()
    kind = str(data.get("certificate_type") or "")
    context: dict[str, Any] = {
        "org": Organisation.from_env(),
        "person": _person(session, user),
        "number": number,
        "issued_on": _ru_date(today),
        "title": title,
        "purpose": data.get("purpose") or "по месту требования",
        "salary": None,
    }
    if kind == "employment" and data.get("include_salary") and user.monthly_salary:
        context["salary"] = _money(Decimal(user.monthly_salary))
    if kind == "used_leave":
        context.update(_used_leave(session, user, data, today))
    elif kind == "ndfl":
        context.update(_ndfl(user, data, today))
    elif kind == "visa":
        context.update(_visa(session, user, data))
    return context


def _file_name(number: str, title: str) -> str:
    return re.sub(r'[\\/:*?"<>|]+', " ", f"{number} {title}").strip() + ".pdf"


@operators.register("render_document", retries=3, backoff_base=2.0)
def render_document(call: OperatorCall) -> dict[str, Any]:
    """Render the certificate of the request and store it; returns {document_id, register_number}."""
    template = str(call.params.get("template") or "")
    data = {**(call.instance.data or {}), **call.data}
    title = str(call.params.get("title") or data.get("certificate_title") or template)
    number = data.get("register_number") or documents.next_register_number(call.session)
    content = render_pdf(template, context_for(call.session, call.instance, data, number, title))
    document = documents.store(
        call.session,
        call.instance,
        kind=str(data.get("certificate_type") or template),
        title=title,
        file_name=_file_name(number, title),
        media_type=PDF,
        content=content,
        register_number=number,
        source_task_id=call.task_id,
    )
    return {"document_id": str(document.id), "register_number": document.register_number}
