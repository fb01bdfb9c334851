"""Upload attacks on every upload form (opportunity documents, bid documents): a file whose content does not
match its name, archive bombs and broken archives disguised as DOCX, XLSX and ODT, path traversal and unicode
tricks in file names, empty and oversized files, and a request body over the limit.

A file's type is decided by its content (marketplace/documents.py); whatever its name, it is kept under a random
key inside the document store, shown under a clean name, and downloaded as an attachment of its real type. A
refused file gets a message by the file field, never a 500, and leaves nothing behind.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from marketplace.bids import submission
from marketplace.bids.models import Bid, BidDocument
from marketplace.documents import MAX_ENTRIES
from marketplace.extensions import db
from marketplace.opportunities.models import OpportunityDocument
from tests.builders import PDF
from tests.security.forms import discover, forms_on
from tests.security.routes import ROUTES, Answer, csrf_token
from tests.security.world import COMMISSIONER, PROVIDER, World

DOCUMENT_LIMIT = 640 * 1024
BODY_LIMIT = 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(pdf|docx|xlsx|odt|ods)")


@pytest.fixture(scope="module")
def app_overrides_for_module() -> dict:
    """Small limits, so oversized files and bodies are quick to make."""
    return {"MAX_DOCUMENT_BYTES": DOCUMENT_LIMIT, "MAX_CONTENT_LENGTH": BODY_LIMIT}


# The upload forms ---------------------------------------------------------------------------------------

UPLOADS = {  # endpoint: (person, scene whose page has the form, the table its documents go to)
    "opportunities.staff_documents": (COMMISSIONER, "draft", OpportunityDocument),
    "bids.prepare_documents": (PROVIDER, "bid", BidDocument),
}


@pytest.fixture(scope="module")
def uploads(world: World) -> World:
    """The world with organisation A's bid withdrawn, so it takes documents again."""
    bid = db.session.query(Bid).filter_by(opportunity_id=world.scenes["bid"]["opportunity_id"]).one()
    with world.app.test_request_context():
        submission.withdraw(world.actors[PROVIDER], bid, 1)
    return world


def page_of(world: World, endpoint: str) -> str:
    return world.url(ROUTES[endpoint], UPLOADS[endpoint][1])


def upload(world: World, endpoint: str, filename: str, data: bytes, title: str = "Method statement") -> Answer:
    """Fill the page's upload form as its user would, with this file."""
    actor, _, _ = UPLOADS[endpoint]
    client, page = world.client(actor), page_of(world, endpoint)
    form = next(f for f in forms_on(Answer.of(client.get(page)).text, page, actor) if f.uploads)
    fields = MultiDict({name: field.value or next(iter(field.options), "") for name, field in form.fields.items()
                        if field.kind in ("hidden", "radio")})
    fields.update({"title": title, "csrf_token": csrf_token(client, actor)})
    fields.add("file", (io.BytesIO(data), filename))
    return Answer.of(client.post(page, data=fields))


def rows(model) -> list:
    db.session.expire_all()
    return list(db.session.execute(sa.select(model).order_by(model.id)).scalars())


def newest(model):
    return rows(model)[-1]


def refused(world: World, endpoint: str, filename: str, data: bytes, message: str) -> None:
    model = UPLOADS[endpoint][2]
    before = len(rows(model))
    answer = upload(world, endpoint, filename, data)
    assert answer.status == 200 and message in answer.text, f"{filename}: {answer}"
    assert 'class="govuk-error-summary' in answer.text and len(rows(model)) == before


def accepted(world: World, endpoint: str, filename: str, data: bytes):
    answer = upload(world, endpoint, filename, data)
    assert answer.status == 302, f"{filename}: {answer} {answer.text[:300]}"
    return newest(UPLOADS[endpoint][2])


# Archives --------------------------------------------------------------------------------------------------

def archive(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as built:
        for name, content in members.items():
            built.writestr(name, content)
    return buffer.getvalue()


def docx(body: bytes = b"<w:document/>") -> bytes:
    return archive({"[Content_Types].xml": b"<Types/>", "word/document.xml": body})


def odt(mimetype: bytes = b"application/vnd.oasis.opendocument.text") -> bytes:
    return archive({"mimetype": mimetype, "content.xml": b"<office:document-content/>"})


def patched(data: bytes, member: str, offset: int, value: bytes) -> bytes:
    """The archive with bytes at `offset` of one member's central directory entry changed (8: its flags, 16: its
    CRC-32; the name starts at 46)."""
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46:entry + 46 + len(member)] != member.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    return data[:entry + offset] + value + data[entry + offset + len(value):]


def with_wrong_checksum(data: bytes, member: str) -> bytes:
    return patched(data, member, 16, struct.pack("<I", 0xDEADBEEF))


def encrypted(data: bytes, member: str) -> bytes:
    return patched(data, member, 8, struct.pack("<H", 0x1))


def bomb() -> bytes:
    """A DOCX whose document expands a thousandfold: 64 MB of zeros in about 64 KB."""
    return docx(b"\x00" * (64 * 1024 * 1024))


# The tests --------------------------------------------------------------------------------------------------

def test_the_upload_forms_are_the_ones_these_tests_attack(uploads):
    """A new upload form fails here until it is added to UPLOADS."""
    found = {endpoint for endpoint, forms in discover(uploads).items() if any(form.uploads for form in forms)}
    assert found <= set(UPLOADS), f"upload forms not attacked here: {sorted(found - set(UPLOADS))}"


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
@pytest.mark.parametrize(("filename", "content", "message"), [
    ("specification.pdf", b"<html><script>alert(1)</script></html>", "must be a PDF, DOCX, XLSX, ODT or ODS"),
    ("budget.xlsx", b"MZ\x90\x00" + b"\x00" * 512, "must be a PDF, DOCX, XLSX, ODT or ODS"),
    ("letter.docx", archive({"readme.txt": b"not a document"}), "must be a PDF, DOCX, XLSX, ODT or ODS"),
    ("empty.pdf", b"", "The selected file is empty"),
    ("large.pdf", PDF + b"\x00" * DOCUMENT_LIMIT, "must be smaller than"),
    ("bomb.docx", bomb(), "expands to far more than its size"),
    ("many.xlsx", archive({"[Content_Types].xml": b"<Types/>", **{f"xl/{n}": b"" for n in range(MAX_ENTRIES)}},
                          zipfile.ZIP_STORED), "expands to far more than its size"),
], ids=["html-named-pdf", "program-named-xlsx", "zip-named-docx", "empty", "over-the-file-limit", "archive-bomb",
        "too-many-entries"])
def test_a_file_that_is_not_what_it_claims_or_too_big_is_refused_with_a_message(uploads, endpoint, filename, content,
                                                                               message):
    refused(uploads, endpoint, filename, content, message)


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
@pytest.mark.parametrize("content", [with_wrong_checksum(odt(), "mimetype"), encrypted(odt(), "mimetype"),
                                     with_wrong_checksum(docx(), "word/document.xml")[:-30]],
                         ids=["corrupt-odt", "encrypted-odt", "truncated-docx"])
def test_a_broken_or_locked_archive_is_refused_or_kept_as_bytes_never_a_500(uploads, endpoint, content):
    answer = upload(uploads, endpoint, "report.odt", content)

    assert answer.status in (200, 302), answer
    if answer.status == 200:
        assert "The selected file" in answer.text


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
def test_a_file_is_typed_by_its_content_not_its_name(uploads, endpoint):
    as_pdf = accepted(uploads, endpoint, "minutes.docx", PDF)
    as_docx = accepted(uploads, endpoint, "minutes.pdf", docx())

    assert (as_pdf.filename, as_pdf.content_type) == ("minutes.pdf", "application/pdf")
    assert (as_docx.filename, as_docx.content_type) == ("minutes.docx", DOCX)


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
@pytest.mark.parametrize(("filename", "shown"), [
    ("../../../../etc/passwd.pdf", "passwd.pdf"),
    # the multipart parser reads a backslash as an escape, so no separator is left either way
    ("..\\..\\windows\\system32\\boot.pdf", "windowssystem32boot.pdf"),
    ("/absolute/path/plan.pdf", "plan.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.pdf"),
    ("nul\x00byte.pdf", "nulbyte.pdf"),
    ("  ...  ", "document.pdf"),
    ("é" * 600 + ".pdf", "é" * 150 + ".pdf"),
], ids=["traversal", "windows-traversal", "absolute", "right-to-left-override", "nul", "only-dots", "very-long"])
def test_a_hostile_file_name_is_cleaned_and_the_file_kept_inside_the_store(uploads, endpoint, filename, shown):
    document = accepted(uploads, endpoint, filename, PDF)
    store = Path(uploads.app.config["DOCUMENT_STORE"])

    assert document.filename == shown
    assert STORED_NAME.fullmatch(document.storage_key) and (store / document.storage_key).read_bytes() == PDF
    assert all(STORED_NAME.fullmatch(path.name) and path.parent == store for path in store.rglob("*"))


def test_an_uploaded_document_is_only_ever_downloaded_as_an_attachment_of_its_real_type(uploads):
    accepted(uploads, "bids.prepare_documents", "<script>alert(1)</script>.pdf", PDF)
    document = newest(BidDocument)
    opportunity_id = uploads.scenes["bid"]["opportunity_id"]

    response = uploads.client(PROVIDER).get(f"/opportunities/{opportunity_id}/bid/documents/{document.id}")

    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff" and "<script>" not in document.filename
    response.close()


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
def test_a_body_over_the_limit_gets_the_too_large_page_not_an_error(uploads, endpoint):
    model = UPLOADS[endpoint][2]
    before = len(rows(model))

    answer = upload(uploads, endpoint, "huge.pdf", PDF + b"\x00" * BODY_LIMIT)

    assert answer.status == 413 and "The file or form you sent is too large" in answer.text
    assert len(rows(model)) == before
