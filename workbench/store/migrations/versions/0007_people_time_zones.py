"""time zones for leaders and cohorts; "not observed" answers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:00:00

Leaders and cohorts get an IANA time zone (``Europe/London``); NULL means "the organization's
default" (``timezone`` in ``content/organization.yaml``), so an existing store shows what it
showed before until someone chooses a zone. ``responses.value`` becomes nullable: a rater's
"not observed / can't say" is stored as a row with no value (missing), so the form knows the
question was answered while the model skips it.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('leaders', sa.Column('timezone', sa.String(length=64), nullable=True))
    op.add_column('cohorts', sa.Column('timezone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('responses') as batch:
        batch.alter_column('value', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute('DELETE FROM responses WHERE value IS NULL')
    with op.batch_alter_table('responses') as batch:
        batch.alter_column('value', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('cohorts') as batch:
        batch.drop_column('timezone')
    with op.batch_alter_table('leaders') as batch:
        batch.drop_column('timezone')
