"""The words of a notification: its subject and body, in Russian or English, from kind + params.

Each kind has a plain-text Jinja2 template per language in ``worker/templates/notifications``
(``<kind>.<lang>.txt``): the first line is the subject, the rest the body. Rendering never fails
for want of a value (a missing param renders empty) nor for want of a template (a kind added later
gets the generic one), so an e-mail job is never stuck on words.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from engine import clock

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "notifications"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
GENERIC = "_generic"
SUBJECT_MAX = 200

OUTCOMES = {
    "ru": {
        "approved": "одобрена",
        "rejected": "отклонена",
        "cancelled": "отменена",
        "completed": "завершена",
        "partially_approved": "одобрена частично",
    },
    "en": {
        "approved": "approved",
        "rejected": "rejected",
        "cancelled": "cancelled",
        "completed": "completed",
        "partially_approved": "partly approved",
    },
}


def language_of(value: str | None) -> str:
    """A supported language: ``value`` if it is one, else Russian."""
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def render(
    kind: str,
    language: str | None,
    params: dict[str, Any] | None,
    *,
    link: str | None = None,
    base_url: str | None = None,
) -> tuple[str, str]:
    """``(subject, body)`` of a notification of ``kind`` in ``language`` (ru or en; others → ru).

    ``link`` points at the instance or task; ``base_url`` builds the activation link of an invitation.
    """
    language = language_of(language)
    params = dict(params or {})
    names = params.get("process_names")
    if isinstance(names, dict) and names.get(language):
        params["process_name"] = names[language]  # the designer's name for this language
    context = {
        **params,
        "params": params,
        "kind": kind,
        "link": link,
        "outcome_text": OUTCOMES[language].get(str(params.get("outcome")), params.get("outcome") or ""),
    }
    if kind == "invitation" and params.get("activation_code") and base_url:
        # The code rides after '#', which browsers do not send: it stays out of access logs.
        context["activation_url"] = f"{base_url.rstrip('/')}/activate#code={params['activation_code']}"
    try:
        text = _environment(language).get_template(_template_name(kind, language)).render(context)
    except Exception:
        # A designer's kind with odd params must still reach the person; logged by kind only.
        log.warning("notification template for kind %s failed; using the generic one", kind)
        text = _environment(language).get_template(f"{GENERIC}.{language}.txt").render(context)
    subject, _, body = text.strip().partition("\n")
    return _one_line(subject) or kind, body.strip()


def _template_name(kind: str, language: str) -> str:
    name = f"{kind}.{language}.txt"
    if kind and not kind.startswith("_") and (TEMPLATE_DIR / name).is_file():
        return name
    return f"{GENERIC}.{language}.txt"


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SUBJECT_MAX else line[: SUBJECT_MAX - 1] + "…"


@cache
def _environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=False,  # noqa: S701 - plain text for e-mail and JSON, never HTML
        undefined=jinja2.ChainableUndefined,
        keep_trailing_newline=False,
    )
    env.filters["d"] = lambda value: format_moment(value, language)
    return env


def format_moment(value: Any, language: str) -> str:
    """A date or time as people of ``language`` write it; the company's time zone for times."""
    if value in (None, "") or isinstance(value, jinja2.Undefined):
        return ""
    moment: date | datetime | None = value if isinstance(value, date) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if moment is None:
        return str(value)
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(clock.company_timezone())
        return moment.strftime("%d.%m.%Y %H:%M" if language == "ru" else "%Y-%m-%d %H:%M")
    return moment.strftime("%d.%m.%Y" if language == "ru" else "%Y-%m-%d")


def link_for(base_url: str, *, instance_id: Any = None, task_id: Any = None, path: str | None = None) -> str:
    """Where a notification points: the task, else the request, else ``path``, else the app's home."""
    base_url = base_url.rstrip("/")
    if task_id:
        return f"{base_url}/api/v1/tasks/{task_id}"
    if instance_id:
        return f"{base_url}/api/v1/instances/{instance_id}"
    if path and path.startswith("/"):
        return f"{base_url}{path}"
    return f"{base_url}/"
