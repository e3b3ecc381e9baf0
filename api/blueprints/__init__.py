"""The v1 REST resources, one blueprint per module."""
