"""suicide-screen reviews, hourly attestations, thiamine prompts, CIWA-B sleep, levels set for risk

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa

import clinic.db
from clinic.db import append_only_ddl, drop_append_only_ddl, drop_length_limit_ddl, length_limit_ddl

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

APPEND_ONLY = ('suicide_review', 'observation_attestation', 'thiamine_prompt')


def upgrade():
    op.create_table('suicide_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admission_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', clinic.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admission_id'], ['admission.id'], name=op.f('fk_suicide_review_admission_id_admission')),
    sa.ForeignKeyConstraint(['assessment_id'], ['withdrawal_assessment.id'], name=op.f('fk_suicide_review_assessment_id_withdrawal_assessment')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'], name=op.f('fk_suicide_review_reviewed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suicide_review'))
    )
    op.create_index('ix_suicide_review_admission_reviewed', 'suicide_review', ['admission_id', 'reviewed_at', 'id'])
    op.create_table('observation_attestation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admission_id', sa.Integer(), nullable=False),
    sa.Column('hour_start', clinic.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('concern', sa.String(length=2000), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', clinic.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admission_id'], ['admission.id'], name=op.f('fk_observation_attestation_admission_id_admission')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_observation_attestation_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_attestation')),
    sa.UniqueConstraint('admission_id', 'hour_start', name='uq_observation_attestation_hour')
    )
    op.create_table('thiamine_prompt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admission_id', sa.Integer(), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', clinic.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admission_id'], ['admission.id'], name=op.f('fk_thiamine_prompt_admission_id_admission')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_thiamine_prompt_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thiamine_prompt')),
    sa.UniqueConstraint('admission_id', name='uq_thiamine_prompt_admission')
    )
    with op.batch_alter_table('withdrawal_assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suicide_review_needed', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('sleep_hours_tenths', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sleep_latency_minutes', sa.Integer(), nullable=True))
    op.create_index('ix_withdrawal_assessment_review_needed', 'withdrawal_assessment',
                    ['admission_id', 'observed_at', 'id'],
                    sqlite_where=sa.text('suicide_review_needed = 1'),
                    postgresql_where=sa.text('suicide_review_needed = true'))
    with op.batch_alter_table('observation_level_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('for_risk', sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == 'sqlite':
        # A batch alteration may rebuild the table on SQLite, and its triggers go with the old one.
        for table in ('observation_level_change', 'withdrawal_assessment'):
            for statement in [*drop_append_only_ddl(table, 'sqlite'), *append_only_ddl(table, 'sqlite')]:
                op.execute(statement)
        # Its length limit (migration 0006) is a trigger too.
        reason_limit = {'reason': 2000}
        for statement in [*drop_length_limit_ddl('observation_level_change', reason_limit, 'sqlite'),
                          *length_limit_ddl('observation_level_change', reason_limit, 'sqlite')]:
            op.execute(statement)
    for table in APPEND_ONLY:
        for statement in append_only_ddl(table, op.get_bind().dialect.name):
            op.execute(statement)


def downgrade():
    for table in APPEND_ONLY:
        for statement in drop_append_only_ddl(table, op.get_bind().dialect.name):
            op.execute(statement)
    with op.batch_alter_table('observation_level_change', schema=None) as batch_op:
        batch_op.drop_column('for_risk')
    op.drop_index('ix_withdrawal_assessment_review_needed', table_name='withdrawal_assessment')
    with op.batch_alter_table('withdrawal_assessment', schema=None) as batch_op:
        batch_op.drop_column('sleep_latency_minutes')
        batch_op.drop_column('sleep_hours_tenths')
        batch_op.drop_column('suicide_review_needed')
    if op.get_bind().dialect.name == 'sqlite':
        # Dropping a column rebuilds the table on SQLite, and its triggers go with the old one.
        for table in ('observation_level_change', 'withdrawal_assessment'):
            for statement in append_only_ddl(table, 'sqlite'):
                op.execute(statement)
    op.drop_table('thiamine_prompt')
    op.drop_table('observation_attestation')
    op.drop_index('ix_suicide_review_admission_reviewed', table_name='suicide_review')
    op.drop_table('suicide_review')
