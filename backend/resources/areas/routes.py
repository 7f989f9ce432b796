"""Areas as GeoJSON, boundary import, and point location; every query scoped by the caller's role and areas."""
from __future__ import annotations

from werkzeug.datastructures import FileStorage

from ...context import client_addr, current_user
from ...errors import InvalidInput
from ...extensions.api import Blueprint, link, links
from ...extensions.database import get_session
from ...extensions.http_errors import localized
from ...policies import area_scope, require_area_writer
from ...services.core import areas
from ...services.patrol import coverage_regions
from .schemas import (
    AreaQuerySchema,
    ImportResultSchema,
    ImportSchema,
    LocateQuerySchema,
    LocateSchema,
)

blp = Blueprint("areas", __name__, url_prefix="/api/v1/areas", description="Areas: county, town, zone, grid, village")


@blp.route("")
@blp.arguments(AreaQuerySchema, location="query")
@blp.response(200)
@blp.paginate(page_size=500, max_page_size=1000)  # a map wants a town's few hundred grids in one page
def list_areas(query, pagination_parameters):
    """A GeoJSON FeatureCollection of the areas the caller may see (WGS-84)."""
    session = get_session()
    features, total = areas.list_features(
        session, area_scope(session, current_user()), kind=query.get("kind"), parent_id=query.get("parent"),
        page=pagination_parameters.page, page_size=pagination_parameters.page_size,
    )
    pagination_parameters.item_count = total
    return {"type": "FeatureCollection", "features": features}


@blp.route("/locate")
@blp.arguments(LocateQuerySchema, location="query")
@blp.response(200, LocateSchema)
def locate(query):
    """The grid, zone, village and town (among those the caller may see) containing a WGS-84 point."""
    session = get_session()
    return areas.locate(session, area_scope(session, current_user()), query["lon"], query["lat"])


@blp.route("/<int:area_id>")
@blp.response(200)
def get_area(area_id):
    """One area as a GeoJSON Feature."""
    session = get_session()
    return areas.get_feature(session, area_scope(session, current_user()), area_id)


@blp.route("/import", methods=["POST"])
@blp.arguments(ImportSchema, location="multipart")
@blp.doc(**links(201, first=link("/api/v1/areas/{area_id}", "get", "The first area imported",
                                 area_id="$response.body#/created_ids/0")))
@blp.response(201, ImportResultSchema)
def import_areas(form):
    """Import a GeoJSON FeatureCollection of polygons (admins and commanders). All features or none."""
    user = current_user()
    require_area_writer(user)
    upload = form.get("file")
    if not isinstance(upload, FileStorage):
        raise InvalidInput("file_required", details={"fields": {"file": "required"}})
    result = areas.import_boundaries(
        get_session(), user, upload.read(), kind=form["kind"], parent_id=form.get("parent"),
        name_property=form.get("name_property"), code_property=form.get("code_property"),
        filename=upload.filename, client_addr=client_addr(),
    )
    get_session().commit()
    coverage_regions.forget_rasters()  # new grids count from the next batch on
    return localized(result)
