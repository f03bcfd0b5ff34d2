"""ward: discharge reversals

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:20:00

A discharge entered in error is reversed by a charge nurse: the admission reopens and this
append-only table keeps the discharge it undid, who reversed it, when and why.
"""
from alembic import op
import sqlalchemy as sa

import clinic.db
from clinic.db import append_only_ddl, drop_append_only_ddl

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('discharge_reversal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admission_id', sa.Integer(), nullable=False),
    sa.Column('reversed_at', clinic.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reversed_by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('bed_id', sa.Integer(), nullable=False),
    sa.Column('discharged_at', clinic.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('discharged_by_id', sa.Integer(), nullable=True),
    sa.Column('disposition', sa.String(length=40), nullable=True),
    sa.Column('discharge_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['admission_id'], ['admission.id'], name=op.f('fk_discharge_reversal_admission_id_admission')),
    sa.ForeignKeyConstraint(['bed_id'], ['bed.id'], name=op.f('fk_discharge_reversal_bed_id_bed')),
    sa.ForeignKeyConstraint(['discharged_by_id'], ['user_account.id'], name=op.f('fk_discharge_reversal_discharged_by_id_user_account')),
    sa.ForeignKeyConstraint(['reversed_by_id'], ['user_account.id'], name=op.f('fk_discharge_reversal_reversed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discharge_reversal'))
    )
    with op.batch_alter_table('discharge_reversal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discharge_reversal_admission_id'), ['admission_id'], unique=False)
    for statement in append_only_ddl('discharge_reversal', op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_append_only_ddl('discharge_reversal', op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('discharge_reversal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discharge_reversal_admission_id'))
    op.drop_table('discharge_reversal')
