"""The one strict model base every manifest and profile model derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown fields are errors; instances are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
