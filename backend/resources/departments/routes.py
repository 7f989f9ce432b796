"""County departments that can be whistled (吹哨)."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import select

from ...context import client_addr, current_user
from ...errors import NotFound
from ...extensions.api import Blueprint, Schema, link, links, page_of
from ...extensions.database import get_session
from ...models import Department
from ...policies import require_admin, scoped_departments
from ...services.core import people

blp = Blueprint("departments", __name__, url_prefix="/api/v1/departments", description="County departments")


class DepartmentSchema(Schema):
    id = ma.fields.Int(dump_only=True)
    name = ma.fields.Str(required=True, validate=ma.validate.Length(1, 100))
    code = ma.fields.Str(required=True, validate=ma.validate.Length(1, 32))
    field = ma.fields.Str(load_default="", validate=ma.validate.Length(max=64))
    active = ma.fields.Bool(dump_only=True)


class DepartmentUpdateSchema(Schema):
    name = ma.fields.Str(validate=ma.validate.Length(1, 100))
    code = ma.fields.Str(validate=ma.validate.Length(1, 32))
    field = ma.fields.Str(validate=ma.validate.Length(max=64))
    active = ma.fields.Bool()


def _visible(dept_id: int) -> Department:
    dept = get_session().scalar(scoped_departments(select(Department).where(Department.id == dept_id), current_user()))
    if dept is None:
        raise NotFound()
    return dept


@blp.route("")
class Departments(MethodView):
    @blp.response(200, DepartmentSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(self, pagination_parameters):
        """Departments the caller may see."""
        session = get_session()
        stmt = scoped_departments(select(Department), current_user())
        return page_of(session, stmt, pagination_parameters, Department.id)

    @blp.arguments(DepartmentSchema)
    @blp.doc(**links(201, get=link("/api/v1/departments/{dept_id}", "get", "The department",
                                   dept_id="$response.body#/id"),
                     update=link("/api/v1/departments/{dept_id}", "patch", "Change it", dept_id="$response.body#/id")))
    @blp.response(201, DepartmentSchema)
    def post(self, data):
        """Add a department (admins)."""
        session, actor = get_session(), current_user()
        require_admin(actor)
        dept = people.create_department(session, actor, data, client_addr())
        session.commit()
        return dept


@blp.route("/<int:dept_id>")
class DepartmentById(MethodView):
    @blp.etag
    @blp.response(200, DepartmentSchema)
    def get(self, dept_id):
        """One department."""
        return _visible(dept_id)

    @blp.etag
    @blp.arguments(DepartmentUpdateSchema)
    @blp.response(200, DepartmentSchema)
    def patch(self, data, dept_id):
        """Rename or deactivate a department (admins; If-Match required)."""
        session, actor = get_session(), current_user()
        require_admin(actor)
        dept = _visible(dept_id)
        blp.check_etag(dept, DepartmentSchema)
        people.update_department(session, actor, dept, data, client_addr())
        session.commit()
        return dept
