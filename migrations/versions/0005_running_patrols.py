"""One running patrol per officer, and why a patrol ended.

Patrols get `end_reason` and `last_seen_at` (the start or the last batch received). Where an officer has several
running patrols (a second phone, cleared storage), all but the latest start are ended as 'superseded' at the time
they were last heard of; then a partial unique index keeps one running patrol per officer.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('patrols', sa.Column('end_reason', sa.String(length=16), nullable=True))
    op.add_column('patrols', sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE patrols SET last_seen_at = COALESCE((SELECT MAX(b.received_at) FROM patrol_batches b "
               "WHERE b.patrol_id = patrols.id), started_at)")
    op.execute("UPDATE patrols SET end_reason = CASE WHEN client_id LIKE 'gpx-%' THEN 'import' ELSE 'user' END "
               "WHERE ended_at IS NOT NULL")
    op.execute("UPDATE patrols SET ended_at = last_seen_at, end_reason = 'superseded' WHERE ended_at IS NULL "
               "AND EXISTS (SELECT 1 FROM patrols newer WHERE newer.officer_id = patrols.officer_id "
               "AND newer.ended_at IS NULL AND (newer.started_at > patrols.started_at "
               "OR (newer.started_at = patrols.started_at AND newer.id > patrols.id)))")
    op.create_index('uq_patrols_running_officer', 'patrols', ['officer_id'], unique=True,
                    postgresql_where=sa.text('ended_at IS NULL'), sqlite_where=sa.text('ended_at IS NULL'))


def downgrade():
    op.drop_index('uq_patrols_running_officer', table_name='patrols')
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch rebuild of `patrols` would fail its foreign keys.
    op.execute("ALTER TABLE patrols DROP COLUMN last_seen_at")
    op.execute("ALTER TABLE patrols DROP COLUMN end_reason")
