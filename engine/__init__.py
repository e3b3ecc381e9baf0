"""approute's workflow runtime: deploy, start, complete and cancel, with persistence and audit.

This package is framework-free: it never imports flask, rq, redis or jinja2, and it is the
only package that imports SpiffWorkflow (inside ``engine.bpmn``).
"""
