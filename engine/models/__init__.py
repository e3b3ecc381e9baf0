"""Every model, imported so that ``Base.metadata`` is complete for Alembic and the tests."""

from engine.models.audit import AuditChainHead, AuditEvent
from engine.models.background import (
    Document,
    Incident,
    IncidentStatus,
    JobStatus,
    Notification,
    OutboxJob,
    RegisterCounter,
    Timer,
    TimerKind,
    TimerStatus,
)
from engine.models.bonus import BonusFundUsage
from engine.models.definitions import DefinitionFile, ProcessDefinition
from engine.models.instances import (
    IdempotencyKey,
    InstanceStatus,
    ProcessInstance,
    PurgeRecord,
    RetentionPolicy,
)
from engine.models.leave import LeaveLedgerEntry, LeaveScheduleNotice, LedgerKind
from engine.models.people_facts import PersonQualification
from engine.models.rules import DecisionRecord, RuleTable, RuleTableVersion
from engine.models.tasks import HumanTask, TaskCandidate, TaskStatus
from engine.models.users import (
    ROLES,
    ApiToken,
    Coordinator,
    Department,
    Invitation,
    SignInAttempt,
    Substitution,
    User,
)

__all__ = [
    "ROLES",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "BonusFundUsage",
    "Coordinator",
    "DecisionRecord",
    "DefinitionFile",
    "Department",
    "Document",
    "HumanTask",
    "IdempotencyKey",
    "Incident",
    "IncidentStatus",
    "InstanceStatus",
    "Invitation",
    "JobStatus",
    "LeaveLedgerEntry",
    "LeaveScheduleNotice",
    "LedgerKind",
    "Notification",
    "OutboxJob",
    "PersonQualification",
    "ProcessDefinition",
    "ProcessInstance",
    "PurgeRecord",
    "RegisterCounter",
    "RetentionPolicy",
    "RuleTable",
    "RuleTableVersion",
    "SignInAttempt",
    "Substitution",
    "TaskCandidate",
    "TaskStatus",
    "Timer",
    "TimerKind",
    "TimerStatus",
    "User",
]
