"""Files people upload: their real type judged by their first bytes (not their name or the
browser's word), their size, and a safe name. Every area that takes files checks them here
(ideas' attachments and messages, competitions' documents), each with the types it accepts."""

import re
import unicodedata

import filetype
from flask_babel import lazy_gettext as _l

from grantflow.core.errors import Refused

# Real type (filetype's extension) -> content type served back.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}


def check_file(upload_name: str, data: bytes, accepted: tuple[str, ...], max_bytes: int, refused_kind) -> tuple[str, str]:
    """(safe file name, content type) of an upload whose size and real type are acceptable;
    raises Refused with a message for the person otherwise. `refused_kind` is the message
    for a type not in `accepted` (it names the accepted kinds the person's way)."""
    if not data:
        raise Refused([_l("Choose a file to upload.")])
    if len(data) > max_bytes:
        raise Refused([_l("The file is too large (%(size)s MB); at most %(limit)d MB.",
                          size=f"{len(data) / 1048576:.1f}", limit=max_bytes // 1048576)])  # fmt: skip
    kind = filetype.guess(data)
    if kind is None or kind.extension not in accepted:
        raise Refused([refused_kind])
    return safe_filename(upload_name, kind.extension), CONTENT_TYPES[kind.extension]


def safe_filename(name: str, extension: str) -> str:
    """The uploaded name without any path, control or format characters (Unicode category Cf:
    the direction overrides U+202A–U+202E and isolates U+2066–U+2069 that make "fdp.exe" look
    like "exe.pdf", zero-width characters), with the extension of its real type:
    "../../x.exe" holding a PDF becomes "x.pdf"."""
    name = "".join(c for c in name or "" if unicodedata.category(c) not in ("Cf", "Cc", "Zl", "Zp"))
    name = re.split(r"[\\/]", name)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "", stem).strip(" .")[:120] or "file"
    return f"{stem}.{'jpg' if extension == 'jpg' else extension}"
