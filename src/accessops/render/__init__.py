"""Renderers: text, JSON and Markdown, all from the plan's JSON data."""
