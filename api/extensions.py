"""Unbound extensions, bound to an app in ``create_app``."""

from flask_smorest import Api

api = Api(spec_kwargs={"security": [{"bearer": []}]})
