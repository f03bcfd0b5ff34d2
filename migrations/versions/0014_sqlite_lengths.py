"""SQLite holds every declared text length, as PostgreSQL does

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:30:00

SQLite ignores VARCHAR(n). Migration 0006 added length triggers for the typed text that existed
then; the tables added since (safety, PRN, trend review, handover) declared their lengths but
SQLite did not enforce them, so there only the forms stood between a caller and a megabyte of
"reason". Every VARCHAR(n) column now has its triggers, codes and keys included, so the embedded
database refuses what PostgreSQL refuses. PostgreSQL needs nothing.
"""
from alembic import op

from clinic.db import drop_length_limit_ddl, length_limit_ddl

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

#: Every VARCHAR(n) column at 0013 without length triggers on SQLite.
LIMITS = {
    'admission': {'status': 12, 'disposition': 40, 'observation_level': 20},
    'admission_risk_flag': {'flag': 20, 'note': 200},
    'admission_substance': {'substance': 30},
    'audit_event': {'username': 64, 'action': 20, 'object_type': 40, 'object_id': 40, 'ip': 64,
                    'prev_hash': 64, 'hash': 64},
    'discharge_reversal': {'reason': 200, 'disposition': 40},
    'entry_retraction': {'entry_kind': 20},
    'escalation': {'level': 12, 'rule': 40, 'source_kind': 20, 'idempotency_key': 64},
    'escalation_update': {'kind': 12, 'idempotency_key': 64},
    'handover_acceptance': {'accepted_by_name': 120, 'accepted_by_role': 20, 'outcome': 12,
                            'questions': 1000},
    'handover_item': {'kind': 12, 'text': 500, 'owner': 80, 'level': 10},
    'handover_setting': {'paper_size': 10},
    'handover_signature': {'signed_by_name': 120, 'signed_by_role': 20, 'sha256': 64,
                           'admission_ids': 2000, 'idempotency_key': 64},
    'login_throttle': {'username': 64},
    'nursing_note': {'idempotency_key': 64},
    'observation_attestation': {'level': 20, 'concern': 2000},
    'observation_level_change': {'level': 20},
    'patient': {'sex': 10},
    'prn_discontinuation': {'reason': 200},
    'prn_dose': {'route': 20, 'outcome': 10, 'reason': 200, 'override_rule': 30, 'override_reason': 200,
                 'breach_rule': 30, 'breach_reason': 200, 'idempotency_key': 64},
    'prn_effect': {'effect': 10, 'note': 200, 'idempotency_key': 64},
    'prn_order': {'drug': 80, 'drug_class': 20, 'dose_unit': 10, 'route': 20, 'indication': 200,
                  'treats_scale': 20, 'allergy_note': 200, 'idempotency_key': 64},
    'protocol_override': {'protocol': 20, 'set_in_band': 20},
    'safety_check': {'location': 20, 'activity': 20, 'round_key': 64, 'idempotency_key': 64},
    'suicide_review': {'note': 2000},
    'thiamine_prompt': {'reason': 500},
    'trend_review': {'comment': 500, 'idempotency_key': 64},
    'unit': {'glucose_unit': 6},
    'user_account': {'role': 20, 'password_hash': 255},
    'user_session': {'token': 64, 'ended_reason': 40, 'ip': 64, 'user_agent': 255},
    'vital_signs': {'oxygen_device': 40, 'consciousness': 1, 'glucose_reading': 2, 'news2_band': 12,
                    'idempotency_key': 64, 'glucose_unit': 6},
    'withdrawal_assessment': {'scale': 20, 'scale_version': 20, 'outcome': 10, 'band': 24,
                              'heart_rate_source': 40, 'suicide_risk': 10, 'idempotency_key': 64},
}


def upgrade():
    dialect = op.get_bind().dialect.name
    for table, columns in LIMITS.items():
        for statement in length_limit_ddl(table, columns, dialect):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table, columns in LIMITS.items():
        for statement in drop_length_limit_ddl(table, columns, dialect):
            op.execute(statement)
