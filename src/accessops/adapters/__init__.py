"""Adapters: read the live system into resources, apply single changes."""
