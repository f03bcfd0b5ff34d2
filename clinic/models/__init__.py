"""SQLAlchemy models, one module per aggregate."""

from clinic.models.audit import AuditEvent
from clinic.models.patient import Admission, AdmissionSubstance, BedMove, Patient
from clinic.models.unit import Bed, Unit
from clinic.models.user import LoginThrottle, User, UserSession

__all__ = [
    "Admission",
    "AdmissionSubstance",
    "AuditEvent",
    "Bed",
    "BedMove",
    "LoginThrottle",
    "Patient",
    "Unit",
    "User",
    "UserSession",
]
