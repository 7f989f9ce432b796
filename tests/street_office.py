"""A real street office (学院路街道, Haidian, from ../shared/data) with ~1 ha street blocks as grids directly under it
(no zones), a squad assigned those grids, its leader, officers and a village supervisor: built through the API,
as an administrator would set up such a town."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass

from shapely.geometry import box, mapping, shape

from geo.street_grid import StreetGrid, street_grid

PASSWORD = "street-office-pass-1"


@dataclass
class StreetOffice:
    town_id: int
    grid_ids: list[int]  # in the order of `grid.blocks`
    squad_id: int
    village_id: int
    grid: StreetGrid
    usernames: dict[str, str]  # role -> username

    def headers(self, client, role: str) -> dict:
        response = client.post("/api/v1/auth/login", json={"username": self.usernames[role], "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def haidian_street(shared_data, name: str = "学院路街道"):
    doc = json.loads((shared_data / "boundaries" / "GNsNyl-PW__haidian.geojson").read_text(encoding="utf-8"))
    return next(f for f in doc["features"] if f["properties"]["name"] == name)


def _import(client, headers, features: list[dict], kind: str, parent: int | None = None) -> list[int]:
    raw = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()
    data = {"kind": kind, "file": (io.BytesIO(raw), f"{kind}.geojson")}
    if parent is not None:
        data["parent"] = str(parent)
    response = client.post("/api/v1/areas/import", data=data, content_type="multipart/form-data", headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["created_ids"]


def build_street_office(client, admin_headers: dict, shared_data, *, rows: int = 4, cols: int = 5,
                        block_m: float = 100.0, prefix: str = "xyl") -> StreetOffice:
    street = haidian_street(shared_data)
    outline = shape(street["geometry"])
    centre = outline.representative_point()
    grid = street_grid((centre.x, centre.y), rows, cols, block_m)
    assert outline.contains(grid.outline)
    (town_id,) = _import(client, admin_headers, [street], "town")
    blocks = [{"type": "Feature", "geometry": mapping(b),
               "properties": {"name": f"学院路{r + 1}-{c + 1}号网格", "code": f"{prefix}-{r + 1}-{c + 1}"}}
              for (r, c), b in zip(((r, c) for r in range(rows) for c in range(cols)), grid.blocks, strict=True)]
    grid_ids = _import(client, admin_headers, blocks, "grid", parent=town_id)
    # A village (社区) covering the west half of the blocks, directly under the street office too.
    x0, y0, x1, y1 = grid.outline.bounds
    (village_id,) = _import(client, admin_headers, [{"type": "Feature", "geometry": mapping(box(x0, y0, (x0 + x1) / 2, y1)),
                                                     "properties": {"name": "学院路西社区"}}], "village", town_id)
    squad = client.post("/api/v1/squads", json={"name": f"{prefix}中队", "area_ids": grid_ids}, headers=admin_headers)
    assert squad.status_code == 201, squad.get_json()
    squad_id = squad.get_json()["id"]
    usernames = {"leader": f"{prefix}-leader", "officer": f"{prefix}-officer", "officer2": f"{prefix}-officer2",
                 "supervisor": f"{prefix}-supervisor"}
    people = {"leader": (["squad_leader"], {"squad_id": squad_id}), "officer": (["officer"], {"squad_id": squad_id}),
              "officer2": (["officer"], {"squad_id": squad_id}),
              "supervisor": (["supervisor"], {"village_id": village_id})}
    for role, (roles, extra) in people.items():
        created = client.post("/api/v1/users", headers=admin_headers, json={
            "username": usernames[role], "display_name": f"学院路{role}", "password": PASSWORD, "roles": roles,
            **extra})
        assert created.status_code == 201, created.get_json()
    return StreetOffice(town_id, grid_ids, squad_id, village_id, grid, usernames)
