"""A skops model is a zip: judge it by its central directory before anything reads an entry.

The end-of-central-directory record (and its zip64 twin) is written by the uploader, so none
of its numbers is trusted on its own word. ``zipfile`` reads the whole central directory that
the record points at and builds one ``ZipInfo`` per entry, whatever count the record
declares: 300,000 empty entries in 25 MB cost some 140 MB of memory. So, in this order and
before ``zipfile`` sees the file:

1. the record is found the way ``zipfile`` finds it (the same record, the same zip64 rules);
2. its declared entry count must be within ``max_zip_entries``, and the central directory's
   declared size within what that many entries need (``CENTRAL_HEADER + ENTRY_NAME_BUDGET``
   bytes each);
3. the central directory is walked header by header (a count, nothing kept) and must hold as
   many entries as declared, never more than the cap.

Only then does ``zipfile`` parse it, once; its entries must again match the count, and their
sizes decide the unpacked-size and compression-ratio checks. The entry names it returns tell
a skops file (it has ``schema.json``) from any other zip, so the archive is not opened again
to name its format.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from auditor.service.problems import Problem
from auditor.service.settings import MIB, ServiceSettings
from auditor.service.uploads import too_large

RATIO_FLOOR = 1 * MIB  # archives unpacking to less than this are never called bombs
CENTRAL_HEADER = 46  # the fixed part of one central directory header
ENTRY_NAME_BUDGET = 1024  # name, extra field and comment of one entry, on average
_END = b"PK\x05\x06"
_END_SIZE = 22
_SEARCH = 1 << 16  # a comment is at most 64 KiB long
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_END = b"PK\x06\x06"
_ZIP64_END_SIZE = 56
_CENTRAL = b"PK\x01\x02"
_DAMAGED = (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error)


@dataclass(frozen=True)
class ZipDirectory:
    """What the end record declares: the entry count, where the central directory starts
    (as ``zipfile`` computes it) and its size in bytes."""

    declared: int
    start: int
    size: int


def _invalid(detail: str) -> Problem:
    return Problem(422, detail, errors=[{"loc": ["body", "model"], "msg": detail}])


def _read_at(handle: BinaryIO, offset: int, count: int) -> bytes:
    handle.seek(offset)
    return handle.read(count)


def read_directory(handle: BinaryIO, size: int) -> ZipDirectory:
    """The end record ``zipfile`` would use (``_EndRecData``), zip64 aware.

    First a record without comment ending the file, else the last signature in the final
    64 KiB; a zip64 locator right before it replaces the count and size by the zip64 record's.
    """
    if size < _END_SIZE:
        raise zipfile.BadZipFile("too short for a zip archive")
    at = size - _END_SIZE
    record = _read_at(handle, at, _END_SIZE)
    if not (record[:4] == _END and record[-2:] == b"\x00\x00"):
        first = max(size - _SEARCH - _END_SIZE, 0)
        tail = _read_at(handle, first, size - first)
        found = tail.rfind(_END)
        if found < 0 or len(tail) - found < _END_SIZE:
            raise zipfile.BadZipFile("no end-of-central-directory record")
        at = first + found
        record = tail[found : found + _END_SIZE]
    declared, length = struct.unpack("<HI", record[10:16])
    zip64 = _zip64_record(handle, at)
    if zip64 is not None:
        declared, length = struct.unpack("<QQ", zip64[32:48])
    start = at - length - (_ZIP64_END_SIZE + _ZIP64_LOCATOR_SIZE if zip64 is not None else 0)
    if start < 0:
        raise zipfile.BadZipFile("bad offset for the central directory")
    return ZipDirectory(declared=declared, start=start, size=length)


def _zip64_record(handle: BinaryIO, at: int) -> bytes | None:
    """The zip64 end record right before the locator right before ``at``, if there is one."""
    if at < _ZIP64_LOCATOR_SIZE:
        return None
    locator = _read_at(handle, at - _ZIP64_LOCATOR_SIZE, _ZIP64_LOCATOR_SIZE)
    if locator[:4] != _ZIP64_LOCATOR:
        return None
    disk, _, disks = struct.unpack("<IQI", locator[4:])
    if disk != 0 or disks > 1:
        raise zipfile.BadZipFile("zip archives spanning several disks are not supported")
    where = at - _ZIP64_LOCATOR_SIZE - _ZIP64_END_SIZE
    if where < 0:
        raise zipfile.BadZipFile("damaged zip64 end record")
    record = _read_at(handle, where, _ZIP64_END_SIZE)
    return record if record[:4] == _ZIP64_END else None


def count_entries(handle: BinaryIO, directory: ZipDirectory, limit: int) -> int:
    """The central directory's headers, counted as ``zipfile`` walks them; stops past ``limit``.

    Nothing is kept per entry: the cost is one pass over at most ``directory.size`` bytes.
    """
    data = _read_at(handle, directory.start, directory.size)
    if len(data) != directory.size:
        raise zipfile.BadZipFile("truncated central directory")
    count = total = 0
    while total < directory.size and count <= limit:
        header = data[total : total + CENTRAL_HEADER]
        if len(header) != CENTRAL_HEADER:
            raise zipfile.BadZipFile("truncated central directory")
        if header[:4] != _CENTRAL:
            raise zipfile.BadZipFile("bad magic number in the central directory")
        name, extra, comment = struct.unpack_from("<HHH", header, 28)
        total += CENTRAL_HEADER + name + extra + comment
        count += 1
    return count


def _check_directory(path: Path, size: int, settings: ServiceSettings) -> int:
    """The number of entries, once the end record and the walk agree and are within caps."""
    cap = settings.max_zip_entries
    too_many = (
        f"at most {cap:,} are accepted (AUDITOR_MAX_ZIP_ENTRIES). Save the model with "
        "skops.io.dump, or ask the operator to raise the limit."
    )
    with path.open("rb") as handle:
        directory = read_directory(handle, size)
        if directory.declared > cap:
            raise _invalid(f"The model archive has {directory.declared:,} entries; {too_many}")
        budget = cap * (CENTRAL_HEADER + ENTRY_NAME_BUDGET)
        if directory.size > budget:
            raise _invalid(
                f"The model archive's central directory is {directory.size:,} bytes, more than "
                f"{cap:,} entries need ({budget:,} bytes); it is not opened. At most "
                f"{cap:,} entries are accepted (AUDITOR_MAX_ZIP_ENTRIES)."
            )
        walked = count_entries(handle, directory, cap)
    if walked > cap:
        raise _invalid(f"The model archive has more than {cap:,} entries; {too_many}")
    if walked != directory.declared:
        raise _invalid(
            f"The model file is a damaged zip archive: its end record gives an entry count of "
            f"{directory.declared:,} but its central directory holds {walked:,} entries. "
            "Save the model again with skops.io.dump."
        )
    return walked


def check_zip(path: Path, size: int, settings: ServiceSettings) -> list[str]:
    """The entry names of the zip at ``path`` after its bomb checks; Problem 422 or 413.

    ``zipfile`` parses the archive once, after the cheap checks of its central directory.
    """
    try:
        expected = _check_directory(path, size, settings)
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except _DAMAGED as exc:
        raise _invalid(f"The model file is a damaged zip archive: {exc}.") from None
    if len(entries) != expected:
        raise _invalid(
            f"The model file is a damaged zip archive: {len(entries):,} entries read where "
            f"its central directory holds {expected:,}. Save the model again with skops.io.dump."
        )
    _check_sizes(entries, settings)
    return [entry.filename for entry in entries]


def _check_sizes(entries: list[zipfile.ZipInfo], settings: ServiceSettings) -> None:
    """Unpacked size within ``max_unpacked_bytes``, compression ratio within ``max_zip_ratio``."""
    unpacked = sum(e.file_size for e in entries)
    packed = sum(e.compress_size for e in entries)
    if unpacked > settings.max_unpacked_bytes:
        raise too_large(
            f"model archive unpacked ({unpacked / MIB:,.0f} MiB)",
            settings.max_unpacked_bytes,
            "max_unpacked_bytes",
        )
    worst = max(
        [unpacked / max(packed, 1)]
        + [e.file_size / max(e.compress_size, 1) for e in entries if e.file_size > RATIO_FLOOR],
    )
    if unpacked > RATIO_FLOOR and worst > settings.max_zip_ratio:
        raise _invalid(
            f"The model archive unpacks {worst:,.0f} times larger than it is (at most "
            f"{settings.max_zip_ratio:,.0f}: AUDITOR_MAX_ZIP_RATIO); it looks like a "
            "decompression bomb and is not opened."
        )
