"""Server-rendered pages under /ui (placeholder until the pages land)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
