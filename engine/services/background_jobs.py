"""Imports every module that registers job kinds with ``engine.services.jobs``."""

from __future__ import annotations

from engine.services import (  # noqa: F401
    accreditation,  # the daily sweeps of periodic accreditation and mandatory training
    leave_schedule,
    notify_operator,
    record_leave_operator,
    service_task_jobs,
    trainings,
    webhook_operator,
)
