"""Raw fixes move from one row a fix (track_points) to one row a batch (track_chunks, packed column arrays).

Existing fixes are moved, a chunk per (patrol, batch), in their stored order; downgrade moves them back.
The record layout and decision codes are written out here, not imported, so this file stays as it ran.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:30:00
"""
from alembic import op
import lz4.block
import numpy as np
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FIX_RECORD = np.dtype([("t", "<f8"), ("lon", "<f8"), ("lat", "<f8"), ("accuracy_m", "<f8"), ("speed_mps", "<f8"),
                       ("heading_deg", "<f8"), ("altitude_m", "<f8"), ("segment", "<i4"), ("is_mock", "?")])
REASONS = (None, "time", "accuracy", "spike")
_POINT_COLUMNS = ("t_unix_s", "lon", "lat", "accuracy_m", "speed_mps", "heading_deg", "altitude_m", "segment",
                  "is_mock")


def _point_columns():
    return (
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patrol_id', sa.Integer(), nullable=False),
        sa.Column('batch_pk', sa.Integer(), nullable=False),
        sa.Column('t_unix_s', sa.Float(), nullable=True),
        sa.Column('segment', sa.Integer(), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.Column('accuracy_m', sa.Float(), nullable=True),
        sa.Column('speed_mps', sa.Float(), nullable=True),
        sa.Column('heading_deg', sa.Float(), nullable=True),
        sa.Column('altitude_m', sa.Float(), nullable=True),
        sa.Column('is_mock', sa.Boolean(), nullable=False),
        sa.Column('kept', sa.Boolean(), nullable=False),
        sa.Column('drop_reason', sa.String(length=16), nullable=True),
    )


def _chunk_columns():
    return (
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patrol_id', sa.Integer(), nullable=False),
        sa.Column('batch_pk', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('t_first', sa.Float(), nullable=True),
        sa.Column('t_last', sa.Float(), nullable=True),
        sa.Column('fixes', sa.LargeBinary(), nullable=False),
        sa.Column('reasons', sa.LargeBinary(), nullable=False),
    )


def _table(name, columns):
    """A lightweight table to read and write rows with (no constraints, no metadata)."""
    return sa.table(name, *(sa.column(c.name, c.type) for c in columns))


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        'track_chunks', *_chunk_columns(),
        sa.ForeignKeyConstraint(['batch_pk'], ['patrol_batches.id'], name=op.f('fk_track_chunks_batch_pk_patrol_batches')),
        sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_track_chunks_patrol_id_patrols')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_track_chunks')),
    )
    chunks = _table('track_chunks', _chunk_columns())
    with op.batch_alter_table('track_chunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_track_chunks_batch_pk'), ['batch_pk'], unique=False)
        batch_op.create_index('ix_track_chunks_patrol_t_last', ['patrol_id', 't_last'], unique=False)
    if bind.dialect.name == 'postgresql':
        # The fixes are LZ4 already: TOAST's own compression would only cost time on every write and read.
        op.execute('ALTER TABLE track_chunks ALTER COLUMN fixes SET STORAGE EXTERNAL')

    points = _table('track_points', _point_columns())
    groups = bind.execute(sa.select(points.c.patrol_id, points.c.batch_pk).distinct()
                          .order_by(points.c.patrol_id, points.c.batch_pk)).all()
    for patrol_id, batch_pk in groups:
        rows = bind.execute(sa.select(*(points.c[name] for name in _POINT_COLUMNS), points.c.drop_reason)
                            .where(points.c.patrol_id == patrol_id, points.c.batch_pk == batch_pk)
                            .order_by(points.c.id)).all()
        records = np.zeros(len(rows), dtype=FIX_RECORD)
        for field, name in zip(FIX_RECORD.names, _POINT_COLUMNS):
            records[field] = [np.nan if row._mapping[name] is None else row._mapping[name] for row in rows]
        codes = np.array([REASONS.index(row.drop_reason or None) for row in rows], dtype=np.uint8)
        timed = records["t"][~np.isnan(records["t"])]
        bind.execute(chunks.insert().values(
            patrol_id=patrol_id, batch_pk=batch_pk, n=len(rows),
            t_first=float(timed.min()) if timed.size else None, t_last=float(timed.max()) if timed.size else None,
            fixes=lz4.block.compress(records.tobytes(), store_size=True), reasons=codes.tobytes()))

    with op.batch_alter_table('track_points', schema=None) as batch_op:
        batch_op.drop_index('ix_track_points_patrol_t_id')
    op.drop_table('track_points')


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table('track_points', *_point_columns(), sa.PrimaryKeyConstraint('id', name=op.f('pk_track_points')))
    points = _table('track_points', _point_columns())
    with op.batch_alter_table('track_points', schema=None) as batch_op:
        batch_op.create_index('ix_track_points_patrol_t_id', ['patrol_id', 't_unix_s', 'id'], unique=False)

    chunks = _table('track_chunks', _chunk_columns())
    for row in bind.execute(sa.select(chunks.c.patrol_id, chunks.c.batch_pk, chunks.c.fixes, chunks.c.reasons)
                            .order_by(chunks.c.id)).all():
        records = np.frombuffer(lz4.block.decompress(row.fixes), dtype=FIX_RECORD)
        codes = np.frombuffer(bytes(row.reasons), dtype=np.uint8)
        if not records.size:
            continue
        bind.execute(points.insert(), [{
            "patrol_id": row.patrol_id, "batch_pk": row.batch_pk,
            **{name: (None if np.isnan(value) else float(value)) if field not in ("segment", "is_mock") else
               (int(value) if field == "segment" else bool(value))
               for field, name, value in zip(FIX_RECORD.names, _POINT_COLUMNS, record.tolist())},
            "kept": code == 0, "drop_reason": REASONS[code],
        } for record, code in zip(records, codes.tolist())])

    with op.batch_alter_table('track_chunks', schema=None) as batch_op:
        batch_op.drop_index('ix_track_chunks_patrol_t_last')
        batch_op.drop_index(batch_op.f('ix_track_chunks_batch_pk'))
    op.drop_table('track_chunks')
