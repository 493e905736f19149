"""The FastAPI application: ``create_app()`` is the factory uvicorn starts (``--factory``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text

from auditor.provenance import tool_version
from auditor.service import migrate
from auditor.service.database import make_engine, read_only, session_factory
from auditor.service.hosts import TrustedHosts
from auditor.service.problems import Problem, install_handlers
from auditor.service.settings import ServiceSettings

DESCRIPTION = """Audits over HTTP: submit a model (or a decision log) and its data, poll the audit,
download its reports; follow each model's fairness metrics from audit to audit.

Every endpoint but `/healthz` and `/readyz` needs `Authorization: Bearer <token>`
(`auditor token create --scope read|submit|admin`). Errors are `application/problem+json`
(RFC 9457). A job's `status` (queued, running, succeeded, failed, canceled) is separate from
the audit's `verdict` (pass, fail, inconclusive): a policy violation is a succeeded job with
verdict `fail`."""


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The API under /api/v1, the pages under /ui, health checks, OpenAPI at /openapi.json."""
    from auditor.service.api import router as api_router
    from auditor.service.docs_page import router as docs_router
    from auditor.service.pages import router as pages_router

    settings = settings or ServiceSettings()
    settings.audits_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate:
            migrate.upgrade(settings.url)
        elif not migrate.is_current(engine):
            raise RuntimeError(
                "the database schema is behind this version of auditor; start without "
                "--no-migrate (or run the migrations) first"
            )
        yield
        engine.dispose()

    app = FastAPI(
        title="auditor",
        version=tool_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # our own page (docs_page.py): no script from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    install_handlers(app)
    app.add_middleware(TrustedHosts, allowed=settings.trusted_hosts)  # problem+json 400
    if settings.cors_origins:  # off unless asked; an explicit list, never "*"
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o for o in settings.cors_origins if o != "*"],
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.get("/healthz", tags=["health"], summary="The process is up")
    def healthz() -> dict[str, str]:
        """200 while the process answers; no token needed."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="The database answers and its schema is current",
        responses={503: {"description": "Database down or migrations behind"}},
    )
    def readyz() -> JSONResponse:
        """200 when the database answers and is at the newest migration, else 503."""
        try:
            with read_only(engine).connect() as connection:
                connection.execute(text("SELECT 1"))
            current = migrate.is_current(read_only(engine))
        except Exception:  # any database failure is "not ready", never a 500
            current = False
            problem = Problem(503, "The database does not answer.")
            return problem.response("/readyz")
        if not current:
            return Problem(503, "The database schema is behind; run the migrations.").response(
                "/readyz"
            )
        return JSONResponse({"status": "ready"})

    app.include_router(api_router)
    app.include_router(pages_router)
    app.include_router(docs_router)
    return app
