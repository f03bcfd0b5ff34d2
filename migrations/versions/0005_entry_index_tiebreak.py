"""newest-entry indexes end with id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 22:20:00

The board and the due list ask for each admission's newest entries ordered by clinical time and
then id. Without id in the index, PostgreSQL sorted every probe (an incremental sort per bed and
scale); with it, each probe is a plain backward index walk.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

#: (index, table, columns before this revision)
INDEXES = [
    ('ix_vital_signs_admission_observed', 'vital_signs', ['admission_id', 'observed_at']),
    ('ix_withdrawal_assessment_admission_observed', 'withdrawal_assessment', ['admission_id', 'observed_at']),
    ('ix_withdrawal_assessment_admission_scale_observed', 'withdrawal_assessment',
     ['admission_id', 'scale', 'observed_at']),
    ('ix_nursing_note_admission_observed', 'nursing_note', ['admission_id', 'observed_at']),
    ('ix_safety_check_admission_observed', 'safety_check', ['admission_id', 'observed_at']),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [*columns, 'id'])


def downgrade():
    for name, table, columns in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
