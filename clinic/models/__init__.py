"""SQLAlchemy models, one module per aggregate."""

from clinic.models.audit import AuditEvent
from clinic.models.charting import Assessment, EntryRetraction, NursingNote, VitalSigns
from clinic.models.discharge import DischargeReversal
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
    "DischargeReversal",
    "EntryRetraction",
    "Escalation",
    "EscalationUpdate",
    "LoginThrottle",
    "NursingNote",
    "Patient",
    "Unit",
    "User",
    "UserSession",
    "VitalSigns",
]
