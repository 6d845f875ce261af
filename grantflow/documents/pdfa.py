"""What can be checked of a document's PDF/A conformance without a PDF/A validator.

GrantFlow's documents are PDF/A-3u (WeasyPrint). A signature is added by incremental update;
this checks, with pypdf, the rules of ISO 19005-2/-3 that a signature's revision can break,
and that the issued file is kept byte for byte:

- the issued file is an exact prefix of the signed one (an incremental update only);
- no encryption; the trailer has an ID; nothing after the last %%EOF but one end of line;
  the header is %PDF-1.0 to %PDF-1.7 followed by a binary comment line, and the catalogue
  declares no later version;
- the catalogue's XMP metadata still identifies the file as PDF/A (pdfaid part and
  conformance, the same as issued), and every entry of the document information
  dictionary equals its XMP counterpart (Title, Author, Subject, Keywords, Creator,
  Producer, CreationDate, ModDate);
- an OutputIntent of subtype GTS_PDFA1 with its ICC profile;
- every font used by the pages, their form XObjects and annotation appearances is embedded
  (Type 3 fonts are drawn by the file itself);
- every annotation (the signature's widget too) has the F key with Print set and Hidden,
  Invisible, NoView and ToggleNoView clear, and an appearance stream unless its rectangle
  is empty; no NeedAppearances in the form; no JavaScript, no catalogue additional actions.

Not checked (what only a full validator such as veraPDF checks): colour spaces of every
drawing operator, transparency groups, the fonts' glyph widths and character maps against
their programs, the ICC profile's contents, the XMP schemas' extension declarations, and
the structure of the content streams.
"""

import io
import re
import xml.etree.ElementTree as ET  # noqa: N817 - the XMP packet GrantFlow's own files carry
from datetime import datetime

from flask_babel import gettext as _
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

PDFAID = "http://www.aiim.org/pdfa/ns/id/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
PDF = "http://ns.adobe.com/pdf/1.3/"
XMP = "http://ns.adobe.com/xap/1.0/"
HEADER = re.compile(rb"%PDF-1\.[0-7](\r\n|\r|\n)%[\x80-\xff]{4}")
EOF = re.compile(rb"%%EOF(\r\n|\r|\n)?")
# Annotation flags (ISO 32000-1, 12.5.3)
INVISIBLE, HIDDEN, PRINT, NOVIEW, TOGGLENOVIEW = 1, 2, 4, 32, 256
# The document information entries and their XMP properties (ISO 19005-2, 6.6.2.3.1)
INFO_XMP = {
    "/Title": (DC, "title"), "/Author": (DC, "creator"), "/Subject": (DC, "description"),
    "/Keywords": (PDF, "Keywords"), "/Creator": (XMP, "CreatorTool"), "/Producer": (PDF, "Producer"),
    "/CreationDate": (XMP, "CreateDate"), "/ModDate": (XMP, "ModifyDate"),
}  # fmt: skip


def identification(pdf: bytes) -> tuple[str, str] | None:
    """The PDF/A part and conformance the file's XMP declares, e.g. ("3", "U"), or None."""
    reader = PdfReader(io.BytesIO(pdf))
    return _identification(_xmp(reader))


def problems(pdf: bytes, issued: bytes | None = None) -> list[str]:
    """What breaks the checked PDF/A rules (empty when none does), in the request's language
    (an administrator reads them when issuing is refused). With `issued`, also that `pdf` is
    `issued` with revisions appended and declares the same PDF/A part."""
    found = []
    if issued is not None and not pdf.startswith(issued):
        found.append(_("the issued file is not kept byte for byte at the start (not an incremental update)"))
    if not HEADER.match(pdf):
        found.append(_("the file header is not one of PDF 1.0 to 1.7 followed by a binary comment line"))
    ends = list(EOF.finditer(pdf))
    if not ends or ends[-1].end() != len(pdf):
        found.append(_("data follows the last end-of-file marker"))
    reader = PdfReader(io.BytesIO(pdf))
    trailer = reader.trailer
    if "/Encrypt" in trailer:
        return [*found, _("the file is encrypted")]  # nothing more can be read without the key
    if "/ID" not in trailer:
        found.append(_("the trailer has no ID"))
    root = trailer["/Root"]
    version = str(root.get("/Version", "/1.7"))[1:]
    if version not in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"):
        found.append(_("the catalogue declares PDF %(version)s (PDF/A-2 and -3 are PDF 1.7 files)", version=version))
    xmp = _xmp(reader)
    ident = _identification(xmp)
    if ident is None:
        found.append(_("the XMP metadata no longer identifies the file as PDF/A (pdfaid:part, pdfaid:conformance)"))
    elif issued is not None and ident != identification(issued):
        found.append(_("the PDF/A identification changed from %(before)s to %(after)s", before="".join(identification(issued) or ()), after="".join(ident)))
    found += _info_matches_xmp(trailer, xmp)
    intents = [i.get_object() for i in root.get("/OutputIntents", ArrayObject())]
    if not any(i.get("/S") == "/GTS_PDFA1" and "/DestOutputProfile" in i for i in intents):
        found.append(_("no PDF/A output intent (GTS_PDFA1 with an ICC profile)"))
    form = root.get("/AcroForm")
    if form is not None and form.get_object().get("/NeedAppearances"):
        found.append(_("the form asks viewers to make appearances (NeedAppearances)"))
    if "/AA" in root:
        found.append(_("the catalogue has additional actions"))
    names = root.get("/Names")
    if names is not None and "/JavaScript" in names.get_object():
        found.append(_("the document carries JavaScript"))
    fonts, annotations = _walk(reader)
    found += [_("font %(name)s is not embedded", name=name) for name in sorted(fonts)]
    found += annotations
    return found


def _xmp(reader: PdfReader) -> ET.Element | None:
    metadata = reader.trailer["/Root"].get("/Metadata")
    if metadata is None:
        return None
    try:
        return ET.fromstring(metadata.get_object().get_data())
    except ET.ParseError:
        return None


def _property(xmp: ET.Element | None, namespace: str, name: str) -> str | None:
    """A simple XMP property, as an attribute of an rdf:Description or an element (the first
    item of an rdf:Alt, rdf:Seq or rdf:Bag)."""
    if xmp is None:
        return None
    for description in xmp.iter(f"{{{RDF}}}Description"):
        if f"{{{namespace}}}{name}" in description.attrib:
            return description.attrib[f"{{{namespace}}}{name}"]
        element = description.find(f"{{{namespace}}}{name}")
        if element is not None:
            item = element.find(f".//{{{RDF}}}li")
            return (item if item is not None else element).text or ""
    return None


def _identification(xmp: ET.Element | None) -> tuple[str, str] | None:
    part, conformance = _property(xmp, PDFAID, "part"), _property(xmp, PDFAID, "conformance")
    return (part, conformance) if part and conformance else None


def _info_matches_xmp(trailer, xmp) -> list[str]:
    info = trailer.get("/Info")
    if info is None:
        return []
    info = info.get_object()
    found = []
    for key, (namespace, name) in INFO_XMP.items():
        if key not in info:
            continue
        value, in_xmp = info[key], _property(xmp, namespace, name)
        if key.endswith("Date"):
            same = in_xmp is not None and _pdf_date(str(value)) == _xmp_date(in_xmp)
        else:
            same = in_xmp is not None and str(value) == in_xmp
        if not same:
            found.append(_("the document information's %(key)s (%(value)s) differs from the XMP metadata (%(xmp)s)", key=key[1:], value=str(value), xmp=in_xmp or "—"))
    return found


def _pdf_date(value: str) -> datetime | None:
    match = re.match(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?", value)
    if not match:
        return None
    y, mo, d, h, mi, s, sign, tzh, tzm = match.groups()
    offset = "+00:00" if sign in (None, "Z", "z") else f"{sign}{tzh or '00'}:{tzm or '00'}"
    return datetime.fromisoformat(f"{y}-{mo or '01'}-{d or '01'}T{h or '00'}:{mi or '00'}:{s or '00'}{offset}")


def _xmp_date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _walk(reader: PdfReader) -> tuple[set[str], list[str]]:
    """Fonts not embedded (by base name) and annotation problems, over every page, its form
    XObjects and its annotations' appearance streams."""
    missing: set[str] = set()
    annotations: list[str] = []
    seen: set[int] = set()

    def resources(holder) -> None:
        res = holder.get("/Resources")
        if res is None:
            return
        res = res.get_object()
        for font in (res.get("/Font") or DictionaryObject()).get_object().values():
            check_font(font)
        for xobject in (res.get("/XObject") or DictionaryObject()).get_object().values():
            visit(xobject)

    def visit(ref) -> None:
        if isinstance(ref, IndirectObject):
            if ref.idnum in seen:
                return
            seen.add(ref.idnum)
        obj = ref.get_object()
        if obj.get("/Subtype") == "/Form":
            resources(obj)

    def check_font(ref) -> None:
        font = ref.get_object()
        if font.get("/Subtype") == "/Type3":
            return
        targets = [d.get_object() for d in font.get("/DescendantFonts", [])] if font.get("/Subtype") == "/Type0" else [font]
        for target in targets:
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                missing.add(str(target.get("/BaseFont", font.get("/BaseFont", "?"))))

    for number, page in enumerate(reader.pages, start=1):
        resources(page)
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            subtype = annot.get("/Subtype")
            if subtype == "/Popup":
                continue
            label = _("the %(kind)s annotation %(name)s on page %(page)d", kind=str(subtype)[1:], name=str(annot.get("/T", "")), page=number).replace("  ", " ")
            flags = int(annot.get("/F", 0))
            if "/F" not in annot or not flags & PRINT or flags & (INVISIBLE | HIDDEN | NOVIEW | TOGGLENOVIEW):
                annotations.append(_("%(annotation)s is not set to print, or is hidden (F = %(flags)s)", annotation=label, flags=str(annot.get("/F"))))
            rect = [float(v) for v in annot.get("/Rect", [0, 0, 0, 0])]
            empty = rect[0] == rect[2] and rect[1] == rect[3]
            appearance = annot.get("/AP")
            if not empty and subtype != "/Link" and (appearance is None or "/N" not in appearance.get_object()):
                annotations.append(_("%(annotation)s has no appearance stream", annotation=label))
            if appearance is not None:
                normal = appearance.get_object().get("/N")
                if normal is not None:
                    visit(normal)
    return missing, annotations
