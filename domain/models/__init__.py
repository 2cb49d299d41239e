"""All tables, importable from one place (Alembic's target metadata)."""

from domain.models.agenda import (
    SECTION_TITLES,
    AgendaItem,
    AgendaItemGroup,
    AgendaSection,
    PublishedAgenda,
)
from domain.models.answer import FINAL as FINAL_DELIVERY
from domain.models.answer import AnswerDelivery, DeliveryStatus, WrittenAnswer
from domain.models.api_token import ApiToken
from domain.models.audit import AuditEvent
from domain.models.collector import CollectorSettings, CollectorState
from domain.models.enums import (
    AgendaStatus,
    Channel,
    Coverage,
    MeetingKind,
    MeetingStatus,
    Phase,
    QuestionKind,
    QuestionStatus,
    Role,
    SubmissionStatus,
)
from domain.models.learned_layer import LearnedLayerVersion
from domain.models.meeting import Meeting, MeetingState
from domain.models.onair import LiveSuggestion, OnAir
from domain.models.outbox import OutboxMessage
from domain.models.question import Question, QuestionGroup
from domain.models.submission import Submission
from domain.models.theme import Theme
from domain.models.user import StaffUser

__all__ = [
    "FINAL_DELIVERY",
    "SECTION_TITLES",
    "AgendaItem",
    "AgendaItemGroup",
    "AgendaSection",
    "AgendaStatus",
    "AnswerDelivery",
    "ApiToken",
    "AuditEvent",
    "Channel",
    "CollectorSettings",
    "CollectorState",
    "Coverage",
    "DeliveryStatus",
    "LearnedLayerVersion",
    "LiveSuggestion",
    "Meeting",
    "MeetingKind",
    "MeetingState",
    "MeetingStatus",
    "OnAir",
    "OutboxMessage",
    "Phase",
    "PublishedAgenda",
    "Question",
    "QuestionGroup",
    "QuestionKind",
    "QuestionStatus",
    "Role",
    "StaffUser",
    "Submission",
    "SubmissionStatus",
    "Theme",
    "WrittenAnswer",
]
