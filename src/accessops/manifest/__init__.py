"""Loading manifests with file:line positions, profiles, validation, schema."""
