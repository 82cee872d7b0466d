"""The FastAPI app of the local server: the request guard, job endpoints under /v1.

``create_app(reconstructor, token)`` wraps a loaded ``backend.reconstruct.Reconstructor``; with
``worker=`` (a ``worker.ProcessRunner``, what ``backend.server.process`` passes) jobs run in a worker
process, else in a thread of this one (the tests' in-process app). ``guard.Guard`` checks Host, token,
size and queue room before a body is read; the process around it (port, token file, signals,
connection limits) is ``backend.server.process``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import ValidationError

from backend import reconstruct as rc
from backend.decode import DECODERS
from backend.geometry.mesh_io import MeshError
from backend.server.export import router as export_router
from backend.server.guard import LOOPBACK_NAMES, MAX_JSON_DEPTH, Guard, json_too_deep
from backend.server.jobs import JobManager, QueueFull
from backend.server.mesh import decode_mesh, load_upload
from backend.server.schema import (
    KEEP_FINISHED,
    KEEP_FINISHED_S,
    MAX_BODY_BYTES,
    MAX_QUEUE,
    MAX_TRIANGLES,
    ErrorResponse,
    Health,
    JobCreated,
    JobOptions,
    JobStatus,
    JobSubmission,
)
from backend.server.worker import ProcessRunner, run_job

API = "/v1"
PUBLIC_PATHS = frozenset({f"{API}/health"})
SUBMIT_PATHS = frozenset({f"{API}/jobs", f"{API}/jobs/upload"})
log = logging.getLogger("mesh2cad.server")


# --- the app ---------------------------------------------------------------------------------------


def describe_errors(errors: list[dict[str, Any]]) -> str:
    """Pydantic/FastAPI validation errors -> one line naming each problem and where it is."""
    parts = []
    for e in errors:
        where = [x for x in e.get("loc", ()) if x not in ("body", "form")]
        loc, msg = ".".join(str(x) for x in where), str(e.get("msg", "invalid"))
        if e.get("type") == "json_invalid":
            loc, msg = (
                "",
                f"malformed JSON at character {where[0] if where else '?'}: {e.get('ctx', {}).get('error')}",
            )
        elif loc == "mesh.face_count" and e.get("type") == "less_than_equal":
            msg = f"too many triangles: {e.get('input')}; the limit is {MAX_TRIANGLES:,} (decimate the mesh first)"
        parts.append(f"{loc}: {msg}" if loc else msg)
    more = f" (and {len(parts) - 5} more)" if len(parts) > 5 else ""
    return "; ".join(parts[:5]) + more or "invalid request"


def model_label(reconstructor: Any) -> str:
    """What /v1/health calls the model: the checkpoint folder's name (or its meta name)."""
    if not getattr(reconstructor, "has_model", True):
        return "none (section candidates only)"
    meta = getattr(reconstructor, "meta", None) or {}
    checkpoint = getattr(reconstructor, "checkpoint", None)
    return str(meta.get("name") or (Path(checkpoint).name if checkpoint else "unknown"))


def backend_version() -> str:
    try:
        return version("mesh2cad-backend")
    except PackageNotFoundError:
        import backend

        return str(getattr(backend, "__version__", "0+unknown"))


def create_app(
    reconstructor: Any,
    token: str,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_queue: int = MAX_QUEUE,
    keep_s: float = KEEP_FINISHED_S,
    keep_count: int = KEEP_FINISHED,
    worker: ProcessRunner | None = None,
    allowed_hosts: Iterable[str] = LOOPBACK_NAMES,
) -> FastAPI:
    """The ASGI app around a loaded ``Reconstructor`` (anything with its ``reconstruct`` signature)."""
    option_names = {f.name for f in dataclasses.fields(rc.ReconstructOptions)}

    def in_thread(payload: Any, progress: Any, should_cancel: Any) -> dict[str, Any]:
        return run_job(reconstructor, payload, progress, should_cancel)

    runner = worker if worker is not None else in_thread
    jobs = JobManager(runner, max_queue=max_queue, keep_s=keep_s, keep_count=keep_count)
    decoders = [str(d) for d in (getattr(reconstructor, "decoders", None) or DECODERS)]
    model_name = model_label(reconstructor)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        jobs.start()
        try:
            yield
        finally:
            jobs.stop()
            if worker is not None:
                worker.shutdown()

    errors = lambda *codes: {c: {"model": ErrorResponse} for c in codes}  # noqa: E731
    submit_errors, job_errors = errors(400, 401, 413, 422, 429), errors(401, 404)
    app = FastAPI(
        title="mesh2cad local server",
        version=backend_version(),
        summary="Mesh -> editable sketch-and-extrude CAD program; jobs on one local model.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API}/openapi.json",
    )
    app.state.jobs = jobs

    def admit(scope: dict[str, Any]) -> tuple[int, str] | None:
        """Before a submission's body is read: 429 when the queue has no room."""
        if scope["method"] == "POST" and scope["path"] in SUBMIT_PATHS and jobs.is_full():
            return 429, f"the queue is full ({jobs.max_queue} jobs waiting); try again later"
        return None

    app.add_middleware(
        Guard,
        token=token,
        max_body_bytes=max_body_bytes,
        public_paths=PUBLIC_PATHS,
        allowed_hosts=allowed_hosts,
        admit=admit,
    )
    bearer = HTTPBearer(
        auto_error=False, description="the token in the file named at start (checked by Guard)"
    )
    jobs_route: dict[str, Any] = {"dependencies": [Depends(bearer)], "tags": ["jobs"]}

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errs = list(exc.errors())
        status = 400 if any(e.get("type") == "json_invalid" for e in errs) else 422
        return JSONResponse({"detail": describe_errors(errs)}, status_code=status)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)

    def enqueue(mesh: Any, options: JobOptions) -> JobCreated:
        if options.decoder not in decoders:
            raise HTTPException(
                422, f"options.decoder: unknown decoder {options.decoder!r}; available: {decoders}"
            )
        rc_options = rc.ReconstructOptions(
            **{k: v for k, v in options.model_dump().items() if k in option_names}
        )
        try:
            job = jobs.submit((mesh, rc_options))
        except QueueFull as exc:
            raise HTTPException(429, str(exc), headers={"Retry-After": "5"}) from None
        return JobCreated(id=job.id, state="queued")

    @app.get(f"{API}/health", response_model=Health, tags=["server"])
    async def health() -> Health:
        """Liveness, model, version, decoders and queue length; needs no token."""
        waiting, running = jobs.counts()
        return Health(
            model=model_name, version=backend_version(), decoders=decoders, queue=waiting, running=running
        )

    @app.post(
        f"{API}/jobs", status_code=202, response_model=JobCreated, responses=submit_errors, **jobs_route
    )
    def submit(body: JobSubmission) -> JobCreated:
        """Queue a reconstruction of a mesh given as packed base64 arrays."""
        try:
            mesh = decode_mesh(body.mesh)
        except MeshError as exc:
            raise HTTPException(422, str(exc)) from None
        return enqueue(mesh, body.options)

    @app.post(
        f"{API}/jobs/upload",
        status_code=202,
        response_model=JobCreated,
        responses=submit_errors,
        **jobs_route,
    )
    def submit_upload(
        file: Annotated[UploadFile, File(description="mesh file: .stl, .obj, .ply, .off or .glb")],
        options: Annotated[
            str | None, Form(max_length=4096, description="JobOptions as a JSON object")
        ] = None,
        candidates: Annotated[int | None, Form()] = None,
        temperature: Annotated[float | None, Form()] = None,
        top_p: Annotated[float | None, Form()] = None,
        seed: Annotated[int | None, Form()] = None,
        decoder: Annotated[str | None, Form(max_length=32)] = None,
    ) -> JobCreated:
        """Queue a reconstruction of an uploaded mesh file; options as form fields or a JSON ``options`` field."""
        fields = {"candidates": candidates, "temperature": temperature, "top_p": top_p, "seed": seed}
        fields["decoder"] = decoder
        if options and json_too_deep(options):
            raise HTTPException(400, f"options: JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            merged = json.loads(options) if options else {}
            if not isinstance(merged, dict):
                raise HTTPException(422, "options: must be a JSON object")
            merged.update({k: v for k, v in fields.items() if v is not None})
            opts = JobOptions.model_validate(merged)
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"options: malformed JSON: {exc}") from None
        except ValidationError as exc:
            detail = describe_errors([{**e, "loc": ("options", *e["loc"])} for e in exc.errors()])
            raise HTTPException(422, detail) from None
        try:
            mesh = load_upload(file.file, file.filename or "")
        except MeshError as exc:
            raise HTTPException(422, str(exc)) from None
        return enqueue(mesh, opts)

    def status_or_404(snapshot: dict[str, Any] | None, job_id: str) -> dict[str, Any]:
        if snapshot is None:
            raise HTTPException(
                404,
                f"unknown job {job_id[:64]!r} (finished jobs are kept {keep_s / 60:g} min, at most {keep_count})",
            )
        return snapshot

    @app.get(f"{API}/jobs/{{job_id}}", response_model=JobStatus, responses=job_errors, **jobs_route)
    async def job_status(job_id: str) -> dict[str, Any]:
        """State, progress, stage, error and (when done) the result of a job."""
        return status_or_404(jobs.get(job_id), job_id)

    @app.delete(f"{API}/jobs/{{job_id}}", response_model=JobStatus, responses=job_errors, **jobs_route)
    async def cancel(job_id: str) -> dict[str, Any]:
        """Cancel a queued job (at once) or a running one (within about a second; its worker is stopped if
        need be); remove a finished one with its result. ``action`` says which was done."""
        return status_or_404(jobs.cancel(job_id), job_id)

    app.include_router(export_router, dependencies=[Depends(bearer)], responses=errors(401, 422, 503))
    return app
