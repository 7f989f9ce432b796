"""Patrols, their delivery batches and raw GPS fixes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:38:03.390377
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patrols',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('squad_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('grid_ids', sa.JSON(), nullable=False),
    sa.Column('raw_count', sa.Integer(), nullable=False),
    sa.Column('point_count', sa.Integer(), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('moving_time_s', sa.Float(), nullable=False),
    sa.Column('dropped', sa.JSON(), nullable=False),
    sa.Column('gaps', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_patrols_officer_id_users')),
    sa.ForeignKeyConstraint(['squad_id'], ['squads.id'], name=op.f('fk_patrols_squad_id_squads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrols')),
    sa.UniqueConstraint('client_id', name=op.f('uq_patrols_client_id'))
    )
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrols_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrols_squad_id'), ['squad_id'], unique=False)

    op.create_table('patrol_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patrol_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_patrol_batches_patrol_id_patrols')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_batches')),
    sa.UniqueConstraint('patrol_id', 'batch_id', name=op.f('uq_patrol_batches_patrol_id_batch_id'))
    )
    op.create_table('track_points',
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
    sa.ForeignKeyConstraint(['batch_pk'], ['patrol_batches.id'], name=op.f('fk_track_points_batch_pk_patrol_batches')),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_track_points_patrol_id_patrols')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_track_points'))
    )
    with op.batch_alter_table('track_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_track_points_batch_pk'), ['batch_pk'], unique=False)
        batch_op.create_index('ix_track_points_patrol_t', ['patrol_id', 't_unix_s'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('track_points', schema=None) as batch_op:
        batch_op.drop_index('ix_track_points_patrol_t')
        batch_op.drop_index(batch_op.f('ix_track_points_batch_pk'))

    op.drop_table('track_points')
    op.drop_table('patrol_batches')
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrols_squad_id'))
        batch_op.drop_index(batch_op.f('ix_patrols_officer_id'))

    op.drop_table('patrols')
