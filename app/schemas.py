"""Types shared by the domains' request and response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer

# What an Integer column (ids included) holds on every database; app/edge.py refuses numbers outside it.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# ISO 8601 with its UTC offset ("+00:00"), as the API has always written timestamps.
Timestamp = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(), return_type=str)]


class ReadModel(BaseModel):
    """A response built from an ORM row's attributes."""

    model_config = ConfigDict(from_attributes=True)


class Ok(BaseModel):
    ok: bool = True
