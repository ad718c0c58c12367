"""The tables. Importing this package registers every table on `SQLModel.metadata`."""

from db.models.access import ApiToken, AuditRecord, WebSession
from db.models.declaration import Declaration
from db.models.environment import Environment, EnvironmentBase
from db.models.operation import Operation, OperationEvent, OperationKind, OperationStatus
from db.models.resource import Resource
from db.models.schedule import Schedule, ScheduleRun
from db.models.simulated_change import SimulatedChange
from db.models.webhook import Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "AuditRecord",
    "Declaration",
    "Environment",
    "EnvironmentBase",
    "Operation",
    "OperationEvent",
    "OperationKind",
    "OperationStatus",
    "Resource",
    "Schedule",
    "ScheduleRun",
    "SimulatedChange",
    "WebSession",
    "Webhook",
    "WebhookDelivery",
]
