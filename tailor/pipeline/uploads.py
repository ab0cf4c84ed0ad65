"""Read a background from a file a person uploads: .txt, .md, .pdf or .docx.

Every failure is a ``BadInput`` that says what to do next; a corrupt PDF never
reaches the user as a traceback.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from tailor.errors import BadInput

SUPPORTED = (".txt", ".md", ".pdf", ".docx")
# A few kilobytes can be built to expand to gigabytes (a zip or Flate bomb) or to stall the
# text extractor for minutes. A real résumé is far below these limits.
MAX_PDF_PAGES = 30
MAX_PDF_CONTENT_BYTES = 10_000_000  # decoded page content of the pages read
MAX_DOCX_XML_BYTES = 8_000_000  # unzipped XML parts (python-docx parses all of it)
MAX_DOCX_MEMBERS = 2_000
log = logging.getLogger(__name__)


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise BadInput(f"{name} contains NUL bytes: it is a binary file, not text. Upload .txt, .md, .pdf or .docx")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{name} is not valid UTF-8 text (byte {exc.start}); save it as UTF-8 or upload a PDF/DOCX"
        ) from None


def _pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise BadInput(f"{name} is an encrypted PDF: remove the password and upload it again")
        parts: list[str] = []
        content_bytes = 0
        for page in reader.pages[:MAX_PDF_PAGES]:
            contents = page.get_contents()
            content_bytes += len(contents.get_data()) if contents is not None else 0
            if content_bytes > MAX_PDF_CONTENT_BYTES:
                raise BadInput(
                    f"{name} holds more than {MAX_PDF_CONTENT_BYTES // 1_000_000} MB of page content; "
                    "export it again or paste the text"
                )
            parts.append(page.extract_text() or "")
        text = "\n".join(parts)
    except BadInput:
        raise
    except LimitReachedError:
        raise BadInput(
            f"{name} expands to more data than a résumé can hold (a compressed stream is too large); "
            "export it again or paste the text"
        ) from None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        log.debug("pdf read failed", exc_info=True)
        raise BadInput(
            f"{name} could not be read as a PDF ({type(exc).__name__}); export it again or paste the text"
        ) from None
    except Exception as exc:  # pypdf raises assorted errors (IndexError, AttributeError) on crafted files
        log.debug("pdf read failed", exc_info=True)
        raise BadInput(f"{name} could not be read as a PDF ({type(exc).__name__})") from None
    if not text.strip():
        raise BadInput(f"{name} has no text layer (a scanned PDF?); paste the text instead")
    return text


def _check_zip(data: bytes, name: str, max_bytes: int) -> None:
    """Refuse a zip bomb from the central directory alone, before anything is unzipped.

    The declared sizes can be trusted as bounds: ``zipfile`` stops reading a member at its
    declared size and then fails the CRC check.
    """
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise BadInput(
            f"{name} could not be read as a Word document ({type(exc).__name__}); "
            "save it again as .docx or paste the text"
        ) from None
    xml = sum(m.file_size for m in members if m.filename.endswith((".xml", ".rels")))
    total = sum(m.file_size for m in members)
    if len(members) > MAX_DOCX_MEMBERS or xml > MAX_DOCX_XML_BYTES or total > 4 * max_bytes:
        raise BadInput(
            f"{name} unzips to {total / 1_000_000:.0f} MB in {len(members)} parts, far more than a résumé; "
            "save it again as .docx or paste the text"
        )


def _docx_text(data: bytes, name: str, max_bytes: int) -> str:
    import zipfile

    from docx import Document

    _check_zip(data, name, max_bytes)
    try:
        doc = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise BadInput(
            f"{name} could not be read as a Word document ({type(exc).__name__}); "
            "save it again as .docx or paste the text"
        ) from None
    except Exception as exc:  # python-docx raises assorted lxml/packaging errors on corrupt files
        raise BadInput(f"{name} could not be read as a Word document ({type(exc).__name__})") from None
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def extract_text(data: bytes, filename: str, max_bytes: int = 5_000_000) -> str:
    name = Path(filename).name or "the file"
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED:
        raise BadInput(f"{name}: unsupported file type {suffix or '(none)'}; upload one of {', '.join(SUPPORTED)}")
    if len(data) > max_bytes:
        raise BadInput(f"{name} is {len(data):,} bytes; the limit is {max_bytes:,}")
    if not data:
        raise BadInput(f"{name} is empty")
    if suffix == ".pdf":
        return _pdf_text(data, name)
    if suffix == ".docx":
        return _docx_text(data, name, max_bytes)
    return _decode(data, name)


def read_background_file(path: Path, max_bytes: int = 5_000_000) -> str:
    if path.suffix.lower() not in SUPPORTED:
        raise BadInput(
            f"{path.name}: unsupported file type {path.suffix or '(none)'}; use one of {', '.join(SUPPORTED)}"
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror})") from None
    return extract_text(data, path.name, max_bytes)
