"""Every model, imported so that ``Base.metadata`` is complete for Alembic and the tests."""

from engine.models.audit import AuditEvent
from engine.models.definitions import DefinitionFile, ProcessDefinition
from engine.models.instances import IdempotencyKey, InstanceStatus, ProcessInstance
from engine.models.tasks import HumanTask, TaskCandidate, TaskStatus
from engine.models.users import ROLES, ApiToken, User

__all__ = [
    "ROLES",
    "ApiToken",
    "AuditEvent",
    "DefinitionFile",
    "HumanTask",
    "IdempotencyKey",
    "InstanceStatus",
    "ProcessDefinition",
    "ProcessInstance",
    "TaskCandidate",
    "TaskStatus",
    "User",
]
