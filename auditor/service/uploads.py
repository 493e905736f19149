"""Receiving a submit: a multipart body streamed to disk under per-file caps, hashed on the way.

FastAPI's own form parsing (``UploadFile``) spools every file to a temporary file before the
endpoint runs and knows one limit for the whole body (``max_body_size``, fixed when the route is
declared). The submit endpoint reads ``request.stream()`` itself instead, through
python-multipart's streaming parser, so that:

- the whole body is capped (``Content-Length`` checked before reading, then bytes counted);
- each file has its own cap (``max_data_bytes``, ``max_model_bytes``, ``max_metadata_bytes``)
  and the request is refused at the first byte past it: at most one network chunk more than
  the cap is ever held in memory, and nothing past the cap is written;
- files go straight into the audit's ``inputs/`` folder under fixed staging names
  (``upload_checks`` renames them to the names of ``storage``), hashed with SHA-256 as they
  stream; the client's file name is kept as display text only;
- text fields are few and short.

The caller owns the folder: on any error it removes it (``storage.remove_audit_files``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from auditor.service.problems import Problem
from auditor.service.settings import MIB, ServiceSettings

FILE_FIELDS = ("data", "model", "metadata")
MAX_FIELDS = 100  # text parts in one submit
MAX_FIELD_BYTES = 8 * 1024  # one text value
MAX_PART_HEADER_BYTES = 16 * 1024  # the headers of one part
FORM_OVERHEAD = 1 * MIB  # the body may exceed the sum of the file caps by this much
_CAP_SETTING = {
    "data": "max_data_bytes",
    "model": "max_model_bytes",
    "metadata": "max_metadata_bytes",
}


@dataclass(frozen=True)
class StagedFile:
    """An uploaded file on disk, under a staging name in the audit's inputs folder."""

    field: str
    path: Path
    size: int
    sha256: str
    client_name: str | None


@dataclass(frozen=True)
class ReceivedForm:
    """The submit's text fields (each name -> its values, in order) and its files."""

    fields: dict[str, list[str]]
    files: dict[str, StagedFile]


def file_cap(settings: ServiceSettings, name: str) -> int:
    """The byte cap of the file field ``name``."""
    return int(getattr(settings, _CAP_SETTING[name]))


def body_cap(settings: ServiceSettings) -> int:
    """The cap of the whole request body: every file at its cap plus the form's overhead."""
    return sum(file_cap(settings, name) for name in FILE_FIELDS) + FORM_OVERHEAD


def display_name(raw: str | None) -> str | None:
    """The client's file name as display text: no folders, no control characters, short."""
    if not raw:
        return None
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    if clean in ("", ".", ".."):
        return None
    return clean[:200]


def too_large(what: str, cap: int, setting: str) -> Problem:
    """Problem 413 for ``what`` past ``cap`` bytes, naming the setting that raises the cap."""
    return Problem(
        413,
        f"The {what} is larger than this server accepts ({_size(cap)}). Send a smaller file "
        f"(sample or split the data), or ask the operator to raise AUDITOR_{setting.upper()}.",
    )


def _size(count: int) -> str:
    if count >= MIB:
        return f"{count / MIB:,.1f} MiB"
    return f"{count:,} bytes"


@dataclass
class _Part:
    name: str = ""
    client_name: str | None = None
    header_bytes: int = 0
    text: bytearray = field(default_factory=bytearray)
    handle: BinaryIO | None = None
    path: Path | None = None
    hasher: Any = None
    size: int = 0
    cap: int = 0


class _Receiver:
    """The parser's callbacks: they sort parts into text fields and capped, hashed files."""

    def __init__(self, settings: ServiceSettings, folder: Path) -> None:
        self.settings = settings
        self.folder = folder
        self.part = _Part()
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.fields: dict[str, list[str]] = {}
        self.field_count = 0
        self.files: dict[str, StagedFile] = {}
        self.open_parts: list[_Part] = []
        self.pending: list[tuple[_Part, bytes]] = []
        self.finished: list[_Part] = []
        self.ended = False

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.part = _Part()
        self.disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self.header_value += data[start:end]

    def _count_header(self, count: int) -> None:
        self.part.header_bytes += count
        if self.part.header_bytes > MAX_PART_HEADER_BYTES:
            raise Problem(400, "A part of the multipart body has oversized headers.")

    def on_header_end(self) -> None:
        if self.header_name.strip().lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name = b""
        self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if b"name" not in options:
            raise Problem(400, "A part of the multipart body has no name (Content-Disposition).")
        name = options[b"name"].decode("utf-8", errors="replace")
        self.part.name = name
        if name not in FILE_FIELDS:
            self.field_count += 1
            if self.field_count > MAX_FIELDS:
                raise Problem(422, f"Too many form fields (at most {MAX_FIELDS}).")
            return
        if name in self.files or any(p.name == name for p in self.open_parts):
            raise Problem(422, f"Send one '{name}' file, not several.", errors=_loc(name))
        filename = options.get(b"filename", b"").decode("utf-8", errors="replace")
        self.part.client_name = display_name(filename)
        self.part.cap = file_cap(self.settings, name)
        self.part.path = self.folder / f".upload-{name}"  # fixed: never the client's name
        self.part.handle = self.part.path.open("xb")
        self.part.hasher = hashlib.sha256()
        self.open_parts.append(self.part)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        part = self.part
        if part.handle is None:
            if len(part.text) + len(chunk) > MAX_FIELD_BYTES:
                raise Problem(
                    422,
                    f"The form field '{part.name[:40]}' is longer than {MAX_FIELD_BYTES:,} bytes.",
                    errors=_loc(part.name),
                )
            part.text.extend(chunk)
            return
        part.size += len(chunk)
        if part.size > part.cap:
            raise too_large(f"'{part.name}' file", part.cap, _CAP_SETTING[part.name])
        self.pending.append((part, chunk))

    def on_part_end(self) -> None:
        part = self.part
        if part.handle is None:
            try:
                value = part.text.decode("utf-8")
            except UnicodeDecodeError:
                raise Problem(
                    422,
                    f"The form field '{part.name[:40]}' is not UTF-8 text.",
                    errors=_loc(part.name),
                ) from None
            self.fields.setdefault(part.name, []).append(value)
            return
        self.finished.append(part)

    def on_end(self) -> None:
        self.ended = True

    def flush(self) -> None:
        """Write the pending file chunks and close the finished files (blocking: a thread)."""
        for part, chunk in self.pending:
            assert part.handle is not None
            part.handle.write(chunk)
            part.hasher.update(chunk)
        self.pending.clear()
        for part in self.finished:
            assert part.handle is not None and part.path is not None
            part.handle.close()
            self.open_parts.remove(part)
            self.files[part.name] = StagedFile(
                part.name, part.path, part.size, part.hasher.hexdigest(), part.client_name
            )
        self.finished.clear()

    def close(self) -> None:
        for part in self.open_parts:
            if part.handle is not None:
                part.handle.close()


def _loc(name: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", name[:40]], "msg": "invalid"}]


def _boundary(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise Problem(
            415,
            "Send the audit as multipart/form-data (e.g. curl -F data=@data.csv -F target=y ...).",
        )
    return options[b"boundary"]


def _check_length(request: Request, cap: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise too_large("request", cap, "max_data_bytes")


async def receive_form(request: Request, settings: ServiceSettings, folder: Path) -> ReceivedForm:
    """Stream the multipart body of ``request`` into ``folder``; Problem 4xx on any excess.

    ``folder`` must exist and be the audit's own inputs folder; on error, files may be left in
    it (partly written): the caller removes the folder.
    """
    boundary = _boundary(request)
    cap = body_cap(settings)
    _check_length(request, cap)
    receiver = _Receiver(settings, folder)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    except FormParserError as exc:
        raise Problem(400, f"The multipart boundary is invalid: {exc}") from None
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > cap:
                raise too_large("request", cap, "max_data_bytes")
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise Problem(400, f"The multipart body is malformed: {exc}") from None
            if receiver.pending or receiver.finished:
                await run_in_threadpool(receiver.flush)
        parser.finalize()
        await run_in_threadpool(receiver.flush)
    finally:
        receiver.close()
    if not receiver.ended:
        raise Problem(400, "The multipart body ended before its closing boundary.")
    return ReceivedForm(receiver.fields, receiver.files)
