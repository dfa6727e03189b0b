"""accessops: declarative permissions-as-code for SaaS workspaces."""

__version__ = "0.1.0"
