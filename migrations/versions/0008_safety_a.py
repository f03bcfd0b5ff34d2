"""safety-a: override band, glucose unit, admission risk flags

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 22:20:00

An override remembers the band it was set in (it lapses once the band worsens); a unit charts
glucose in mmol/L or mg/dL and each set keeps the unit it was measured in; risk flags are
append-only rows per admission.
"""
from alembic import op
import sqlalchemy as sa

import clinic.db
from clinic.db import append_only_ddl, drop_append_only_ddl

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None

APPEND_ONLY = ('admission_risk_flag',)


def upgrade():
    op.create_table('admission_risk_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admission_id', sa.Integer(), nullable=False),
    sa.Column('flag', sa.String(length=20), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', clinic.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admission_id'], ['admission.id'], name=op.f('fk_admission_risk_flag_admission_id_admission')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_admission_risk_flag_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admission_risk_flag'))
    )
    with op.batch_alter_table('admission_risk_flag', schema=None) as batch_op:
        batch_op.create_index('ix_admission_risk_flag_admission_flag', ['admission_id', 'flag', 'id'], unique=False)
    with op.batch_alter_table('protocol_override', schema=None) as batch_op:
        batch_op.add_column(sa.Column('set_in_band', sa.String(length=20), nullable=True))
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('glucose_unit', sa.String(length=6), server_default='mmol/L', nullable=False))
    with op.batch_alter_table('vital_signs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('glucose_unit', sa.String(length=6), nullable=True))
    for table in APPEND_ONLY:
        for statement in append_only_ddl(table, op.get_bind().dialect.name):
            op.execute(statement)


def downgrade():
    for table in APPEND_ONLY:
        for statement in drop_append_only_ddl(table, op.get_bind().dialect.name):
            op.execute(statement)
    with op.batch_alter_table('vital_signs', schema=None) as batch_op:
        batch_op.drop_column('glucose_unit')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('glucose_unit')
    with op.batch_alter_table('protocol_override', schema=None) as batch_op:
        batch_op.drop_column('set_in_band')
    with op.batch_alter_table('admission_risk_flag', schema=None) as batch_op:
        batch_op.drop_index('ix_admission_risk_flag_admission_flag')
    op.drop_table('admission_risk_flag')
