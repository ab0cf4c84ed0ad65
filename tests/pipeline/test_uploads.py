"""Reading uploaded résumés: the formats that read, and every malformed, crafted or oversized file refused
quickly with a reason."""

from __future__ import annotations

import contextlib
import io
import time
import zipfile
import zlib
from collections.abc import Callable

import pytest
from docx import Document
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st

from tailor.errors import BadInput
from tailor.pipeline.uploads import extract_text


def make_pdf(text: str | None, *, password: str | None = None) -> bytes:
    """A PDF of ``text``; ``None`` draws a page with no text layer, like a scan."""
    pdf = FPDF()
    pdf.add_page()
    if text is None:
        pdf.rect(10, 10, 50, 50)
    else:
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, text)
    if password:
        pdf.set_encryption(owner_password=password, user_password=password)
    return bytes(pdf.output())


def make_docx(text: str) -> bytes:
    doc = Document()
    for line in text.splitlines():
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


RESUME = "Senior Backend Engineer\n9 years of experience with Go and PostgreSQL."


def test_reads_pdf_docx_txt_md() -> None:
    assert "Go and PostgreSQL" in extract_text(make_pdf(RESUME), "cv.pdf")
    assert "Go and PostgreSQL" in extract_text(make_docx(RESUME), "cv.docx")
    assert extract_text(RESUME.encode(), "cv.txt") == RESUME
    assert extract_text(("\ufeff" + RESUME).encode(), "cv.md") == RESUME


@pytest.mark.parametrize(
    ("data", "name", "needle"),
    [
        (b"%PDF-1.7 garbage that is not a pdf", "cv.pdf", "could not be read as a PDF"),
        (b"PK\x03\x04 broken zip", "cv.docx", "could not be read as a Word document"),
        (b"\xff\xfe\x00\x00", "cv.txt", "NUL"),
        (b"caf\xe9 latin-1", "cv.txt", "not valid UTF-8"),
        (b"MZ\x90\x00", "cv.exe", "unsupported file type"),
        (b"", "cv.txt", "empty"),
        (b"x" * 6_000_001, "cv.txt", "the limit is"),
    ],
)
def test_bad_uploads_get_a_clear_message(data: bytes, name: str, needle: str) -> None:
    with pytest.raises(BadInput) as exc:
        extract_text(data, name)
    assert needle in exc.value.message


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".pdf", ".docx", ".txt", ".md"]))
def test_no_upload_crashes_the_parser(data: bytes, suffix: str) -> None:
    with contextlib.suppress(BadInput):
        extract_text(data, "upload" + suffix)


# --------------------------------------------------------------------------- crafted files
def _raw_pdf(content: bytes, pages: int = 1) -> bytes:
    """A minimal PDF whose pages all draw one Flate-compressed content stream."""
    data = zlib.compress(content, 9)
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
    objects += [page + b"/Resources << /Font << /F1 3 0 R >> >> >>"] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _docx_with_paragraphs(count: int) -> bytes:
    """A valid .docx whose body repeats a tiny paragraph ``count`` times (it zips to almost nothing)."""
    from docx import Document

    doc = Document()
    doc.add_paragraph("Senior Backend Engineer")
    buf = io.BytesIO()
    doc.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    para = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                at = data.index(b"<w:p>")
                data = data[:at] + para * count + data[at:]
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


STREAM = b"BT /F1 12 Tf 72 712 Td (Senior Backend Engineer, Go and PostgreSQL) Tj ET\n"


@pytest.mark.parametrize(
    ("make", "name", "needle"),
    [
        (lambda: make_pdf("Senior Backend Engineer", password="secret"), "cv.pdf", "encrypted PDF"),
        (lambda: make_pdf(None), "cv.pdf", "no text layer"),
        # 80 MB of content behind 80 KB: pypdf stops at its limit; the error is ours, not a traceback.
        (lambda: _raw_pdf(STREAM + b" " * 80_000_000), "cv.pdf", "expands to more data"),
        # 30 pages drawing one 4 MB stream: 120 MB to parse for text from a 4 KB file.
        (lambda: _raw_pdf(STREAM + b" " * 4_000_000, pages=30), "cv.pdf", "MB of page content"),
        # 10 MB of XML behind 66 KB: python-docx would spend half a minute parsing it.
        (lambda: _docx_with_paragraphs(300_000), "cv.docx", "far more than a résumé"),
        (lambda: b"<html><script>alert(1)</script></html>", "cv.html", "unsupported file type"),
        (lambda: b"Senior engineer", "resume", "unsupported file type (none)"),
        (lambda: b"Senior engineer", "cv.pdf.exe", "unsupported file type .exe"),
    ],
)
def test_crafted_uploads_are_refused_quickly_with_a_reason(make: Callable[[], bytes], name: str, needle: str) -> None:
    data = make()
    assert len(data) < 200_000  # every one of these is a small upload
    started = time.perf_counter()
    with pytest.raises(BadInput) as info:
        extract_text(data, name)
    assert needle in info.value.message and "\n" not in info.value.message
    # Not a timing target: a guard that the refusal came before the expensive parse.
    assert time.perf_counter() - started < 20


def test_a_normal_pdf_and_docx_still_read() -> None:
    assert "Senior Backend Engineer" in extract_text(_raw_pdf(STREAM), "cv.pdf")
    assert extract_text(_docx_with_paragraphs(200), "cv.docx").startswith("a\na")
