"""The JSON API under /api/v1 (routers of the modules beside this one)."""

from __future__ import annotations

from fastapi import APIRouter

from auditor.service.api import audits, meta, models, submit

router = APIRouter(prefix="/api/v1")
router.include_router(submit.router)
router.include_router(audits.router)
router.include_router(models.router)
router.include_router(meta.router)
