"""The JSON API under /api/v1 (routers of the modules beside this one)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
