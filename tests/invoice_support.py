"""Reading back the PDFs of chalicelib/pdf.py without a PDF library: the structure a reader relies on
(header, every xref offset pointing at its object, trailer, startxref) and the text shown."""

import re


def check_pdf(document: bytes) -> dict:
    """Parse `document`, asserting its structure; returns {"pages": n, "text": all shown strings}."""
    assert document.startswith(b"%PDF-1.4\n")
    assert document.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", document).group(1))
    assert document[startxref:startxref + 5] == b"xref\n"
    header = re.match(rb"xref\n0 (\d+)\n", document[startxref:])
    count = int(header.group(1))
    entries = document[startxref + header.end():].split(b"\n")[:count]
    assert entries[0] == b"0000000000 65535 f "
    for number, entry in enumerate(entries[1:], start=1):
        offset, generation, kind = entry.split()
        assert kind == b"n" and generation == b"00000"
        assert document[int(offset):].startswith(b"%d 0 obj\n" % number), number
    trailer = re.search(rb"trailer\n<< /Size (\d+) /Root (\d+) 0 R", document)
    assert int(trailer.group(1)) == count
    for stream in re.finditer(rb"<< /Length (\d+) >>\nstream\n", document):
        length = int(stream.group(1))
        assert document[stream.end() + length:stream.end() + length + 10] == b"\nendstream"
    pages = re.search(rb"/Type /Pages /Kids \[[^\]]*\] /Count (\d+)", document)
    kids = len(re.findall(rb"/Type /Page /Parent", document))
    assert int(pages.group(1)) == kids
    shown = [re.sub(rb"\\(.)", rb"\1", m.group(1)).decode("cp1252")
             for m in re.finditer(rb"\((.*?)(?<!\\)\) Tj", document)]
    return {"pages": kids, "text": "\n".join(shown)}
