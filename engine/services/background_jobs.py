"""Imports every module that registers job kinds with ``engine.services.jobs``."""

from __future__ import annotations
