"""Patrol tasks (排班), the coverage lattice, per grid-day coverage bitmaps and patrol-grid visits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:09:15.935113
"""
from alembic import op
import sqlalchemy as sa



revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Foreign keys on raw fixes cost PostgreSQL a trigger per row (see models/patrols.py TrackPoint).
    with op.batch_alter_table('track_points', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_track_points_patrol_id_patrols'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_track_points_batch_pk_patrol_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_track_points_batch_pk'))
        batch_op.drop_index('ix_track_points_patrol_t')
        batch_op.create_index('ix_track_points_patrol_t_id', ['patrol_id', 't_unix_s', 'id'], unique=False)

    op.create_table('coverage_lattice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_lon', sa.Float(), nullable=False),
    sa.Column('centre_lat', sa.Float(), nullable=False),
    sa.Column('cell_size_m', sa.Float(), nullable=False),
    sa.Column('radius_m', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_lattice'))
    )
    op.create_table('coverage_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('col0', sa.Integer(), nullable=False),
    sa.Column('row0', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('cells', sa.LargeBinary(), nullable=False),
    sa.Column('visits', sa.LargeBinary(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("scope IN ('all','squad','officer')", name=op.f('ck_coverage_days_scope')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_days')),
    sa.UniqueConstraint('day', 'scope', 'scope_id', name=op.f('uq_coverage_days_day_scope_scope_id'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        # The blobs are LZ4 already: TOAST's own compression would only cost time on every write and read.
        op.execute('ALTER TABLE coverage_days ALTER COLUMN cells SET STORAGE EXTERNAL, '
                   'ALTER COLUMN visits SET STORAGE EXTERNAL')
    op.create_table('patrol_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('squad_id', sa.Integer(), nullable=True),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('shift_start', sa.String(length=5), nullable=False),
    sa.Column('shift_end', sa.String(length=5), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('grid_ids', sa.JSON(), nullable=False),
    sa.Column('coverage_target', sa.Float(), nullable=False),
    sa.Column('min_visits', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_patrol_tasks_created_by_id_users')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_patrol_tasks_officer_id_users')),
    sa.ForeignKeyConstraint(['squad_id'], ['squads.id'], name=op.f('fk_patrol_tasks_squad_id_squads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_tasks')),
    sa.UniqueConstraint('client_id', name=op.f('uq_patrol_tasks_client_id'))
    )
    with op.batch_alter_table('patrol_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_patrol_tasks_officer_date', ['officer_id', 'date'], unique=False)
        batch_op.create_index('ix_patrol_tasks_squad_date', ['squad_id', 'date'], unique=False)

    op.create_table('patrol_grid_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patrol_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('squad_id', sa.Integer(), nullable=True),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['areas.id'], name=op.f('fk_patrol_grid_visits_grid_id_areas')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_patrol_grid_visits_officer_id_users')),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_patrol_grid_visits_patrol_id_patrols')),
    sa.ForeignKeyConstraint(['squad_id'], ['squads.id'], name=op.f('fk_patrol_grid_visits_squad_id_squads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_grid_visits')),
    sa.UniqueConstraint('patrol_id', 'grid_id', 'day', name=op.f('uq_patrol_grid_visits_patrol_id_grid_id_day'))
    )
    with op.batch_alter_table('patrol_grid_visits', schema=None) as batch_op:
        batch_op.create_index('ix_patrol_grid_visits_day', ['day'], unique=False)
        batch_op.create_index('ix_patrol_grid_visits_grid_last', ['grid_id', 'last_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_grid_visits_officer_id'), ['officer_id'], unique=False)

    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shift_ends_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('tail_from_t', sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f('ix_patrols_task_id'), ['task_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_patrols_task_id_patrol_tasks'), 'patrol_tasks', ['task_id'], ['id'])




def downgrade() -> None:

    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_patrols_task_id_patrol_tasks'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_patrols_task_id'))
        batch_op.drop_column('tail_from_t')
        batch_op.drop_column('shift_ends_at')
        batch_op.drop_column('task_id')

    with op.batch_alter_table('patrol_grid_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_grid_visits_officer_id'))
        batch_op.drop_index('ix_patrol_grid_visits_grid_last')
        batch_op.drop_index('ix_patrol_grid_visits_day')

    op.drop_table('patrol_grid_visits')
    with op.batch_alter_table('patrol_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_tasks_squad_date')
        batch_op.drop_index('ix_patrol_tasks_officer_date')

    op.drop_table('patrol_tasks')
    op.drop_table('coverage_days')
    op.drop_table('coverage_lattice')
    with op.batch_alter_table('track_points', schema=None) as batch_op:
        batch_op.drop_index('ix_track_points_patrol_t_id')
        batch_op.create_index('ix_track_points_patrol_t', ['patrol_id', 't_unix_s'], unique=False)
        batch_op.create_index(batch_op.f('ix_track_points_batch_pk'), ['batch_pk'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_track_points_batch_pk_patrol_batches'), 'patrol_batches',
                                    ['batch_pk'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_track_points_patrol_id_patrols'), 'patrols', ['patrol_id'], ['id'])

