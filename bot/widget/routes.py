"""Routes serving the embeddable web widget (placeholder until the widget issue lands)."""

from sanic import Blueprint

blueprint = Blueprint("widget")
