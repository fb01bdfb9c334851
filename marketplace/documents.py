"""The document store: files kept outside static/, named by a random key, with their SHA-256.

Types are decided by content, not by name: PDF by its header; DOCX/XLSX by the OOXML parts inside the zip;
ODT/ODS by the `mimetype` entry. Zips that would expand absurdly (archive bombs) are refused.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import re
import secrets
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from marketplace.errors import DomainError

TYPES = {
    "pdf": ("application/pdf", "PDF"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel spreadsheet"),
    "odt": ("application/vnd.oasis.opendocument.text", "OpenDocument text"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet"),
}
ALLOWED_DESCRIPTION = "PDF, DOCX, XLSX, ODT or ODS"
MAX_EXPANDED = 200 * 1024 * 1024
MAX_RATIO = 100
MAX_ENTRIES = 5000


@dataclass(frozen=True)
class StoredFile:
    storage_key: str
    filename: str
    extension: str
    content_type: str
    size: int
    sha256: str


def safe_filename(name: str) -> str:
    """A display name without paths, control characters or direction tricks."""
    name = unicodedata.normalize("NFKC", name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:150] or "document"


def _read_entry(archive: zipfile.ZipFile, name: str, limit: int = 200) -> bytes:
    """The first `limit` bytes of an entry (never the whole of a huge one); none when it cannot be read: corrupt
    (a wrong checksum, or more data than its header declares), encrypted, or compressed in a way this service does
    not read."""
    try:
        with archive.open(name) as entry:
            return entry.read(limit)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError, ValueError, zlib.error,
            lzma.LZMAError):
        return b""


def _zip_kind(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return None
    infos = archive.infolist()
    expanded = sum(info.file_size for info in infos)
    if len(infos) > MAX_ENTRIES or expanded > MAX_EXPANDED or expanded > MAX_RATIO * max(len(data), 1):
        raise DomainError("The file expands to far more than its size, so it looks unsafe. Save it again and "
                          "upload the new copy.", "file")
    names = {info.filename for info in infos}
    if "mimetype" in names:
        mimetype = _read_entry(archive, "mimetype").decode("ascii", "replace").strip()
        return {TYPES["odt"][0]: "odt", TYPES["ods"][0]: "ods"}.get(mimetype)
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
    return None


def detect_kind(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def _root() -> Path:
    root = Path(current_app.config.get("DOCUMENT_STORE") or Path(current_app.instance_path) / "documents")
    root.mkdir(parents=True, exist_ok=True)
    return root


def store(filename: str, data: bytes, max_bytes: int | None = None) -> StoredFile:
    """Check a file's type by content and keep it; raises DomainError with a message for the `file` field."""
    max_bytes = max_bytes or current_app.config["MAX_DOCUMENT_BYTES"]
    if not data:
        raise DomainError("The selected file is empty", "file")
    if len(data) > max_bytes:
        raise DomainError(f"The selected file must be smaller than {max_bytes // (1024 * 1024)}MB", "file")
    kind = detect_kind(data)
    if kind is None:
        raise DomainError(f"The selected file must be a {ALLOWED_DESCRIPTION}", "file")
    display = safe_filename(filename)
    stem = display.rsplit(".", 1)[0] if "." in display else display
    key = f"{secrets.token_hex(16)}.{kind}"
    (_root() / key).write_bytes(data)
    return StoredFile(key, f"{stem}.{kind}", kind, TYPES[kind][0], len(data), hashlib.sha256(data).hexdigest())


def path_for(storage_key: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}\.(pdf|docx|xlsx|odt|ods)", storage_key):
        raise FileNotFoundError(storage_key)
    return _root() / storage_key
