"""invitations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:30:29.881574

Rater rows become invitations: who sent them, reminders and revocation. Columns are only
added (no table rebuild), so on SQLite the assessment sessions' links to their raters stay
untouched; the downgrade drops the columns with plain ALTER TABLE for the same reason (a
rebuild of ``raters`` with foreign keys on would null every ``assessment_sessions.rater_id``).
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

NEW_COLUMNS = ('invited_by', 'reminded_at', 'reminder_count', 'revoked_at')


def upgrade() -> None:
    op.add_column('raters', sa.Column('invited_by', sa.String(length=100), nullable=True))
    op.add_column('raters', sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('raters', sa.Column('reminder_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('raters', sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for column in reversed(NEW_COLUMNS):
        op.execute(f'ALTER TABLE raters DROP COLUMN {column}')
