"""calibration provenance and the active calibration

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 00:00:00

Published calibrations carry who published them and their provenance (data window, method,
diagnostics), and one calibration per organization is marked active. Columns are only added; an
existing store's newest fitted calibration per organization becomes the active one, so what
leaders see does not change on upgrade.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

NEW_COLUMNS = ('active', 'activated_at', 'published_by', 'provenance')


def upgrade() -> None:
    op.add_column('calibrations', sa.Column('active', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('calibrations', sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('calibrations', sa.Column('published_by', sa.String(length=100), nullable=True))
    op.add_column('calibrations', sa.Column('provenance', sa.JSON(), nullable=True))
    # the calibration the store used so far (newest fitted one per organization) stays in use
    op.execute("""
        UPDATE calibrations SET active = TRUE, activated_at = created_at
        WHERE id IN (
            SELECT c.id FROM calibrations c
            WHERE c.method <> 'generating' AND NOT EXISTS (
                SELECT 1 FROM calibrations d
                WHERE d.method <> 'generating'
                  AND (d.organization_id = c.organization_id
                       OR (d.organization_id IS NULL AND c.organization_id IS NULL))
                  AND (d.created_at > c.created_at OR (d.created_at = c.created_at AND d.id > c.id))))
    """)


def downgrade() -> None:
    for column in reversed(NEW_COLUMNS):
        op.execute(f'ALTER TABLE calibrations DROP COLUMN {column}')
