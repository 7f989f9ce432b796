"""GET /api/v1/config: what the PWA needs before sign-in (basemap), from the server's settings."""
from __future__ import annotations

from flask import current_app

from ... import __version__
from ...extensions.api import PUBLIC, Blueprint

blp = Blueprint("config", __name__, url_prefix="/api/v1", description="Client configuration")


@blp.route("/config")
@blp.doc(**PUBLIC)
@blp.response(200)
def get_config():
    """Basemap template, attribution and coordinate system; optional Tianditu key."""
    s = current_app.config["GRIDPATROL"]
    basemap = None
    if s.basemap_url:
        basemap = {"url_template": s.basemap_url, "attribution": s.basemap_attribution,
                   "subdomains": s.basemap_subdomains, "crs": s.basemap_crs, "max_zoom": 18}
    # original_upload: when phones send originals after the display copy (always | wifi | never)
    # inspection_checkin_max_m: a check-in farther than this from the business is flagged
    return {"basemap": basemap, "tianditu_key": s.tianditu_key or None, "version": __version__,
            "original_upload": s.original_upload, "inspection_checkin_max_m": s.inspection_checkin_max_m}
