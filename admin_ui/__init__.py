"""The Jinja2 web UI for all four roles: a blueprint that api/ mounts."""
