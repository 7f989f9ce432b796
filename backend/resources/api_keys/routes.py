"""API keys of integrations (Open311 clients, hotline systems), for admins: made (the key shown once), listed,
revoked. The CLI does the same: gridpatrol api-key create|list|revoke."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import select

from ...context import current_user
from ...errors import NotFound
from ...extensions.api import Blueprint, Schema
from ...extensions.database import get_session
from ...models import ApiKey
from ...policies import require_admin
from ...services.integrations.api_keys import create_key, revoke_key

blp = Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys", description="Integration API keys (admins)")


class ApiKeySchema(Schema):
    id = ma.fields.Int()
    name = ma.fields.Str()
    prefix = ma.fields.Str(metadata={"description": "the key's first characters, to tell keys apart"})
    created_at = ma.fields.AwareDateTime()
    last_used_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class NewApiKeySchema(ApiKeySchema):
    key = ma.fields.Str(metadata={"description": "the key itself: shown this once, only its hash is kept"})


class ApiKeyCreateSchema(Schema):
    name = ma.fields.Str(required=True, validate=ma.validate.Length(1, 100))


@blp.route("")
class ApiKeys(MethodView):
    @blp.response(200, ApiKeySchema(many=True))
    def get(self):
        """Every key, live and revoked."""
        require_admin(current_user())
        return list(get_session().scalars(select(ApiKey).order_by(ApiKey.name)))

    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, NewApiKeySchema)
    def post(self, data):
        """Make a key for an integration; the answer holds the key, which is never shown again."""
        user = current_user()
        require_admin(user)
        session = get_session()
        row, key = create_key(session, data["name"], actor_username=user.username)
        session.commit()
        row.key = key  # type: ignore[attr-defined]
        return row


@blp.route("/<int:key_id>/revoke", methods=["POST"])
@blp.response(200, ApiKeySchema)
def revoke(key_id):
    """Revoke a key: requests with it are refused from now on."""
    user = current_user()
    require_admin(user)
    session = get_session()
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound()
    revoke_key(session, row.name, actor_username=user.username)
    session.commit()
    return row
