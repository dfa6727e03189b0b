"""Pydantic models of manifests and profiles, and flat resource addresses."""
