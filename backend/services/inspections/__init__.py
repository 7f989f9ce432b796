"""Joint inspections (综合查一次): the register, the catalogue, plans and their draws, on-site checks, outputs."""
