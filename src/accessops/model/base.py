"""The one strict model base every manifest and profile model derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

#: The largest whole number every target stores (SQLite's and PostgreSQL's
#: 64-bit integers): a bigger one is a validation error, not an apply crash.
MAX_STORED_INT = 2**63 - 1


class Strict(BaseModel):
    """Unknown fields are errors; instances are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
