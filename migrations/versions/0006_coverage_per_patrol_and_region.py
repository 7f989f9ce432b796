"""Coverage kept per patrol, day and region (town or street office), each region with its own lattice.

The town-wide day rows per scope (`coverage_days`) were shared by every officer of a town: batches sent at once
waited on, and deadlocked over, the same rows. Now each batch writes only its own patrol's rows. One lattice per
deployment (`coverage_lattice`) did not fit a county of towns tens of km apart: each region has its own.

Coverage is derived from the stored fixes, so the old rows are dropped, not converted: `gridpatrol db upgrade`
recounts every patrol afterwards (services.patrol.recount.rebuild_all_coverage), as `gridpatrol coverage rebuild`
does. The visits (`patrol_grid_visits`) keep their shape and are recounted with it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('coverage_days')
    op.drop_table('coverage_lattice')
    op.execute('DELETE FROM patrol_grid_visits')
    op.create_table('coverage_lattices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('centre_lon', sa.Float(), nullable=False),
    sa.Column('centre_lat', sa.Float(), nullable=False),
    sa.Column('cell_size_m', sa.Float(), nullable=False),
    sa.Column('radius_m', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_lattices')),
    sa.UniqueConstraint('region_id', name=op.f('uq_coverage_lattices_region_id'))
    )
    op.create_table('coverage_patrol_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patrol_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('squad_id', sa.Integer(), nullable=True),
    # Small columns first, the blobs last: SQLite reads a row's columns in order, through the blobs' overflow pages,
    # so a query of versions (updated_at) would otherwise read every row's cells.
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('col0', sa.Integer(), nullable=False),
    sa.Column('row0', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('visits', sa.LargeBinary(), nullable=False),
    sa.Column('cells', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_coverage_patrol_days_officer_id_users')),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_coverage_patrol_days_patrol_id_patrols')),
    sa.ForeignKeyConstraint(['squad_id'], ['squads.id'], name=op.f('fk_coverage_patrol_days_squad_id_squads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_patrol_days')),
    sa.UniqueConstraint('patrol_id', 'day', 'region_id', name=op.f('uq_coverage_patrol_days_patrol_id_day_region_id'))
    )
    op.create_index('ix_coverage_patrol_days_region_day', 'coverage_patrol_days', ['region_id', 'day'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # Already compressed (LZ4): stored out of line without PostgreSQL compressing them again.
        op.execute('ALTER TABLE coverage_patrol_days ALTER COLUMN cells SET STORAGE EXTERNAL, '
                   'ALTER COLUMN visits SET STORAGE EXTERNAL')


def downgrade():
    op.drop_index('ix_coverage_patrol_days_region_day', table_name='coverage_patrol_days')
    op.drop_table('coverage_patrol_days')
    op.drop_table('coverage_lattices')
    op.execute('DELETE FROM patrol_grid_visits')
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
    # The old layout is recounted by the old code's `gridpatrol coverage rebuild`.
