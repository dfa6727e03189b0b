"""accessops: declarative permissions-as-code for SaaS workspaces."""

__version__ = "0.2.0"
