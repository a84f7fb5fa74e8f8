"""A text-only PDF 1.4 writer (standard Helvetica, A4, WinAnsi text), enough for an invoice.

Hand-written so the Lambda package stays small (tests/test_package.py): no layout engine, just lines
of text placed on pages top to bottom. The output is deterministic for the same input (no dates, no
random ids), so rendering an invoice again gives the same bytes.
"""

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
LEADING = 14  # points between baselines at 10 pt


def _escape(text: str) -> bytes:
    """A PDF literal string's body in WinAnsi (cp1252); what it cannot encode becomes '?'."""
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"").replace(
        b"\n", b" ")


Line = tuple[str, int, bool] | str  # text, or (text, indent in points, bold)


def _page_stream(lines: list[Line]) -> bytes:
    out = [b"BT"]
    y = PAGE_HEIGHT - MARGIN
    for line in lines:
        text, indent, bold = (line, 0, False) if isinstance(line, str) else line
        size = 10
        out.append(b"/%s %d Tf 1 0 0 1 %d %d Tm (%s) Tj" % (b"F2" if bold else b"F1", size, MARGIN + indent, y,
                                                            _escape(text)))
        y -= LEADING
    out.append(b"ET")
    return b"\n".join(out)


def paginate(lines: list[Line]) -> list[list[Line]]:
    per_page = (PAGE_HEIGHT - 2 * MARGIN) // LEADING
    return [lines[i:i + per_page] for i in range(0, len(lines), per_page)] or [[]]


def render(lines: list[Line], title: str = "") -> bytes:
    """A PDF of `lines`, as many A4 pages as they need. `title` goes into the document information."""
    pages = paginate(lines)
    objects: list[bytes] = []  # object n is objects[n - 1]
    font_regular, font_bold, info = 3, 4, 5
    first_page = 6
    kids = [first_page + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(pages)))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Title (%s) /Producer (commerce) >>" % _escape(title))
    for number, page in zip(kids, pages, strict=True):
        stream = _page_stream(page)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 %d 0 R "
                       b"/F2 %d 0 R >> >> /Contents %d 0 R >>" % (PAGE_WIDTH, PAGE_HEIGHT, font_regular, font_bold,
                                                                  number + 1))
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, info, xref)
    return bytes(body)
