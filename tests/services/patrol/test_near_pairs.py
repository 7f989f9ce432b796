"""Which fixes and segments come within R of which grids (visits, last_visited_at): the prepared R-buffers give the
pairs GEOS's distance test gives, on street blocks whose edges the track follows and through their corners."""
from types import SimpleNamespace

import numpy as np
import shapely

from backend.services.patrol.coverage_regions import NEAR_QUAD_SEGS
from backend.services.patrol.coverage_writer import near_pairs

R = 30.0


def blocks(n: int = 6, size: float = 100.0, street: float = 12.0) -> np.ndarray:
    """n × n square blocks separated by streets (metres), as a street office's grids are."""
    step = size + street
    return np.array([shapely.box(i * step, j * step, i * step + size, j * step + size)
                     for i in range(n) for j in range(n)])


def raster_of(grids: np.ndarray) -> SimpleNamespace:
    near = shapely.buffer(grids, R, quad_segs=NEAR_QUAD_SEGS)
    shapely.prepare(near)
    return SimpleNamespace(near_m=near, near_tree=shapely.STRtree(near))


def as_set(pairs: tuple[np.ndarray, np.ndarray]) -> set[tuple[int, int]]:
    return set(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))


def test_points_and_segments_along_streets_and_through_corners_match_the_distance_test():
    rng = np.random.default_rng(5)
    grids = blocks()
    raster = raster_of(grids)
    # fixes on the streets' centre lines (grid edges at 6 m), across blocks, and scattered near corners
    xs = np.concatenate([np.full(300, 106.0), rng.uniform(-50, 720, 700)])
    ys = np.concatenate([rng.uniform(-50, 720, 300), rng.uniform(-50, 720, 700)])
    points = shapely.points(xs, ys)
    order = rng.permutation(xs.size)
    segments = shapely.linestrings(np.stack([np.column_stack([xs[order[:-1]], ys[order[:-1]]]),
                                             np.column_stack([xs[order[1:]], ys[order[1:]]])], axis=1))
    exact = shapely.STRtree(grids)
    for geoms in (points, segments):
        got = as_set(near_pairs(raster, geoms))
        want = as_set(exact.query(geoms, predicate="dwithin", distance=R))
        # only a pair within a few centimetres of R from a corner may differ (the buffer's arcs are chords)
        for g, k in got ^ want:
            assert abs(shapely.distance(geoms[g], grids[k]) - R) < 0.04
        assert len(got ^ want) <= 2
        assert len(want) > 1000  # the scene does exercise many pairs


def test_nothing_near_gives_no_pairs():
    raster = raster_of(blocks(2))
    geom_at, grid_at = near_pairs(raster, shapely.points([5_000.0], [5_000.0]))
    assert geom_at.size == 0 and grid_at.size == 0
