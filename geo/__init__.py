"""Pure geometry for GridPatrol: projections, GCJ-02, boundary import, demo town."""
