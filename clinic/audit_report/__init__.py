"""The audit report: search the audit trail."""

from flask import Blueprint

bp = Blueprint("audit_report", __name__)

from clinic.audit_report import routes  # noqa: E402,F401
