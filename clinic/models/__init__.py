"""SQLAlchemy models, one module per aggregate."""

from clinic.models.audit import AuditEvent
from clinic.models.charting import Assessment, EntryRetraction, NursingNote, VitalSigns
from clinic.models.discharge import DischargeReversal
from clinic.models.escalation import Escalation, EscalationUpdate
from clinic.models.handover import HandoverAcceptance, HandoverItem, HandoverSetting, HandoverSignature
from clinic.models.monitoring import (
    Assignment,
    DueDefinitionVersion,
    MissedCheckNote,
    ObservationLevelChange,
    ProtocolOverride,
    SafetyCheck,
)
from clinic.models.patient import Admission, AdmissionSubstance, BedMove, Patient
from clinic.models.prn import PrnDiscontinuation, PrnDose, PrnEffect, PrnOrder
from clinic.models.risk import RiskFlag
from clinic.models.safety import ObservationAttestation, SuicideReview, ThiaminePrompt
from clinic.models.trends import TrendReview
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
    "HandoverAcceptance",
    "HandoverItem",
    "HandoverSetting",
    "HandoverSignature",
    "LoginThrottle",
    "NursingNote",
    "ObservationAttestation",
    "Patient",
    "PrnDiscontinuation",
    "PrnDose",
    "PrnEffect",
    "PrnOrder",
    "TrendReview",
    "RiskFlag",
    "SuicideReview",
    "ThiaminePrompt",
    "Unit",
    "User",
    "UserSession",
    "VitalSigns",
]
