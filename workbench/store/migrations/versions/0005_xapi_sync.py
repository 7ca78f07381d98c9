"""xapi sync

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 23:55:00

Activity events learn where they came from (``origin``), who an external learner is
(``actor``, with ``leader_id`` then empty), which statement voided them (``voided_by``);
verb and object columns take full IRIs (500 characters). ``lrs_cursors`` remembers how far
a push or pull got. ``activity_events`` is rebuilt on SQLite (nothing refers to it).
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=10), server_default='local', nullable=False))
        batch_op.add_column(sa.Column('actor', sa.String(length=600), nullable=True))
        batch_op.add_column(sa.Column('voided_by', sa.String(length=36), nullable=True))
        batch_op.alter_column('leader_id', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('verb', existing_type=sa.String(length=40), type_=sa.String(length=500))
        batch_op.alter_column('object_id', existing_type=sa.String(length=200), type_=sa.String(length=500))
        batch_op.create_check_constraint('origin', "origin IN ('local', 'imported')")
        batch_op.create_index('ix_activity_events_stored', ['stored_at', 'id'], unique=False)
    op.create_table(
        'lrs_cursors',
        sa.Column('endpoint', sa.String(length=500), nullable=False),
        sa.Column('pushed_stored_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('pushed_id', sa.String(length=36), nullable=True),
        sa.Column('pulled_since', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('endpoint', name=op.f('pk_lrs_cursors')),
    )


def downgrade() -> None:
    op.drop_table('lrs_cursors')
    op.execute("DELETE FROM activity_events WHERE leader_id IS NULL")
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_events_stored')
        batch_op.drop_constraint('origin', type_='check')
        batch_op.alter_column('object_id', existing_type=sa.String(length=500), type_=sa.String(length=200))
        batch_op.alter_column('verb', existing_type=sa.String(length=500), type_=sa.String(length=40))
        batch_op.alter_column('leader_id', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('voided_by')
        batch_op.drop_column('actor')
        batch_op.drop_column('origin')
