from __future__ import annotations

import contextlib
import io

import pytest
from docx import Document
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st

from tailor.errors import BadInput
from tailor.pipeline.uploads import extract_text


def make_pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, text)
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
