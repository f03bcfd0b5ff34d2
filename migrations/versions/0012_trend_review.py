"""physicians' trend review sign-off

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:20:00

Append-only: a review is never edited or withdrawn; the newest row per admission is the last one.
"""
import sqlalchemy as sa
from alembic import op

import clinic.db
from clinic.db import append_only_ddl, drop_append_only_ddl

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trend_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admission_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', clinic.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['admission_id'], ['admission.id'], name=op.f('fk_trend_review_admission_id_admission')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'], name=op.f('fk_trend_review_reviewed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trend_review')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_trend_review_idempotency_key'))
    )
    with op.batch_alter_table('trend_review', schema=None) as batch_op:
        batch_op.create_index('ix_trend_review_admission_reviewed', ['admission_id', 'reviewed_at', 'id'], unique=False)
    for statement in append_only_ddl('trend_review', op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_append_only_ddl('trend_review', op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('trend_review', schema=None) as batch_op:
        batch_op.drop_index('ix_trend_review_admission_reviewed')
    op.drop_table('trend_review')
