"""text columns get length limits

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:40:00

Allergies of a million characters were admitted and made the board a megabyte per load. Every
column of typed text now has a limit, the same as its form's. PostgreSQL enforces it with
VARCHAR(n); SQLite ignores declared lengths, so there the columns stay TEXT (rebuilding the
append-only tables would drop their triggers) and triggers refuse longer text.

An existing PostgreSQL row longer than its new limit makes this upgrade fail, leaving the data
as it was: nothing is cut short silently.
"""
import sqlalchemy as sa
from alembic import op

from clinic.db import drop_length_limit_ddl, length_limit_ddl

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

#: Columns that were TEXT, with their new limit.
WERE_TEXT = {
    'vital_signs': {'correction_reason': 2000},
    'withdrawal_assessment': {'correction_reason': 2000, 'unable_reason': 2000},
    'nursing_note': {'correction_reason': 2000, 'text': 10000},
    'safety_check': {'correction_reason': 2000, 'concern': 1000, 'backdate_reason': 1000},
    'entry_retraction': {'reason': 2000},
    'escalation': {'reason': 4000},
    'escalation_update': {'text': 4000},
    'protocol_override': {'reason': 1000},
    'observation_level_change': {'reason': 2000},
    'missed_check_note': {'reason': 1000},
    'patient': {'allergies': 1000},
    'admission': {'discharge_note': 4000},
}
#: Typed text that was already VARCHAR(n), which SQLite did not enforce either.
WERE_VARCHAR = {
    'patient': {'mrn': 32, 'family_name': 80, 'given_name': 80},
    'admission_substance': {'detail': 200},
    'bed_move': {'reason': 200},
    'unit': {'name': 80, 'timezone': 64, 'shift_pattern': 200},
    'bed': {'label': 20},
    'user_account': {'username': 64, 'display_name': 120},
    'escalation_update': {'informed_who': 120},
}


def _all_limits() -> dict[str, dict[str, int]]:
    limits: dict[str, dict[str, int]] = {}
    for source in (WERE_TEXT, WERE_VARCHAR):
        for table, columns in source.items():
            limits.setdefault(table, {}).update(columns)
    return limits


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for table, columns in WERE_TEXT.items():
            for column, length in columns.items():
                op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
    for table, columns in _all_limits().items():
        for statement in length_limit_ddl(table, columns, dialect):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table, columns in _all_limits().items():
        for statement in drop_length_limit_ddl(table, columns, dialect):
            op.execute(statement)
    if dialect == 'postgresql':
        for table, columns in WERE_TEXT.items():
            for column, length in columns.items():
                op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))
