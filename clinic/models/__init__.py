"""SQLAlchemy models, one module per aggregate."""

from clinic.models.audit import AuditEvent
from clinic.models.charting import Assessment, EntryRetraction, NursingNote, VitalSigns
from clinic.models.escalation import Escalation, EscalationUpdate
from clinic.models.monitoring import (
    Assignment,
    DueDefinitionVersion,
    MissedCheckNote,
    ObservationLevelChange,
    ProtocolOverride,
    SafetyCheck,
)
from clinic.models.patient import Admission, AdmissionSubstance, BedMove, Patient
from clinic.models.safety import ObservationAttestation, SuicideReview, ThiaminePrompt
from clinic.models.unit import Bed, Unit
from clinic.models.user import LoginThrottle, User, UserSession

__all__ = [
    "Assignment",
    "DueDefinitionVersion",
    "MissedCheckNote",
    "ObservationLevelChange",
    "ProtocolOverride",
    "SafetyCheck",
    "Admission",
    "AdmissionSubstance",
    "Assessment",
    "AuditEvent",
    "Bed",
    "BedMove",
    "EntryRetraction",
    "Escalation",
    "EscalationUpdate",
    "LoginThrottle",
    "NursingNote",
    "ObservationAttestation",
    "Patient",
    "SuicideReview",
    "ThiaminePrompt",
    "Unit",
    "User",
    "UserSession",
    "VitalSigns",
]
