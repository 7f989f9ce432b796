"""HTTP resources, one package per resource (routes.py + schemas.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..extensions.api import Api


def register_resources(api: Api) -> None:
    from .api_keys.routes import blp as api_keys
    from .areas.routes import blp as areas
    from .businesses.routes import blp as businesses
    from .inspection_catalogue.routes import blp as inspection_catalogue
    from .inspection_plans.routes import blp as inspection_plans
    from .inspections.routes import blp as inspections
    from .cases.routes import blp as cases
    from .audit.routes import blp as audit
    from .auth.routes import blp as auth
    from .config.routes import blp as config
    from .departments.routes import blp as departments
    from .evidence.routes import blp as evidence
    from .health.routes import blp as health
    from .me.routes import blp as me
    from .notifications.routes import blp as notifications
    from .patrols.routes import blp as patrols
    from .coverage.routes import blp as coverage
    from .squads.routes import blp as squads
    from .tasks.routes import blp as tasks
    from .uploads.routes import blp as uploads
    from .users.routes import blp as users

    for blueprint in (health, config, auth, me, areas, users, squads, departments, audit, patrols,
                      tasks, coverage, evidence, uploads, cases, api_keys, notifications, businesses,
                      inspection_catalogue, inspection_plans, inspections):
        api.register_blueprint(blueprint)
