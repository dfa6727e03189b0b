"""Applying plans: ordering, the applier, the state store (last applied, lock, apply log)."""
