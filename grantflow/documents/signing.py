"""PAdES signatures with pyHanko: the operator's signature on issued documents, and checking the
copies the parties signed and uploaded.

A party's signer (eParaksts, Adobe, pyHanko…) signs by incremental update: the file GrantFlow
issued stays byte for byte at the start of the signed copy, followed by the signer's revision.
So a copy is genuine when (1) every signature in it is intact and cryptographically valid, made
with a certificate that chains to a configured trusted root, and (2) one of its earlier
revisions (a prefix ending at an %%EOF) has the SHA-256 of an issued version, and (3) the pages
of the signed revision carry the same content as that issued version (a signer adds
annotations and form fields, never page content).

Trust: SIGNATURE_TRUST_ROOTS lists certificate files (PEM or DER) in instance/. For eParaksts,
download the Latvian State Radio and Television Centre's root certificates (the "E-ME SI (CA1)"
chain published at https://www.eparaksts.lv/en/for_developers/Certificates) into instance/ and
list them; the European trust list is another source.
"""

import asyncio
import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import keys, pem, x509
from flask import current_app
from flask_babel import lazy_gettext as _l
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.constants import ESIC_EXTENSION_1
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfReader

from grantflow.core.errors import Refused

OPERATOR_FIELD = "GrantFlow"
EOF = re.compile(rb"%%EOF[ \t]*(\r\n|\r|\n)?")


# --- the operator's signature ---------------------------------------------------------------


def operator_signer(config) -> signers.Signer | None:
    """The operator's signer from configuration, or None when none is configured (documents
    are then issued unsigned). SIGNING_PKCS12: a .p12/.pfx file; or SIGNING_KEY and
    SIGNING_CERT (PEM); SIGNING_CHAIN: intermediate certificates; SIGNING_PASSPHRASE (from the
    environment) unlocks the key. Relative paths are in the instance folder."""
    base = Path(current_app.instance_path)
    passphrase = (config.get("SIGNING_PASSPHRASE") or "").encode() or None
    chain = [str(base / p) for p in config.get("SIGNING_CHAIN") or ()]
    if config.get("SIGNING_PKCS12"):
        signer = signers.SimpleSigner.load_pkcs12(str(base / config["SIGNING_PKCS12"]), ca_chain_files=chain, passphrase=passphrase)
    elif config.get("SIGNING_KEY") and config.get("SIGNING_CERT"):
        signer = signers.SimpleSigner.load(str(base / config["SIGNING_KEY"]), str(base / config["SIGNING_CERT"]),
                                           ca_chain_files=chain, key_passphrase=passphrase)
    else:
        return None
    if signer is None:
        raise RuntimeError("The operator's signing key or certificate could not be loaded (check the paths and SIGNING_PASSPHRASE).")
    return signer


def _finish(coroutine):
    """Run pyHanko's asynchronous work to its end from plain code. Its synchronous wrappers
    call asyncio.run(), which fails where the thread already runs an event loop (an async
    server; Playwright's synchronous API in the same process): there it runs in a thread of
    its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def simple_signer(cert: x509.Certificate, key: keys.PrivateKeyInfo, chain=()) -> signers.SimpleSigner:
    """A signer from a certificate and key in memory (the tests' generated authority)."""
    return signers.SimpleSigner(signing_cert=cert, signing_key=key, cert_registry=SimpleCertificateStore.from_certs([cert, *chain]))


class _PdfASigner(signers.PdfSigner):
    """pyHanko's signer, keeping the file a PDF 1.7 (PDF/A-2 and -3 are PDF 1.7 files): for an
    elliptic-curve key pyHanko would declare PDF 2.0 with the ISO/TS 32002 extension in the
    catalogue; here only the PAdES (ESIC) extension of PDF 1.7 is declared. The signature is
    the same ECDSA signature either way."""

    def register_extensions(self, pdf_out, *, md_algorithm: str) -> None:
        if self.signature_meta.subfilter == fields.SigSeedSubFilter.PADES:
            pdf_out.ensure_output_version(version=(1, 7))
            pdf_out.register_extension(ESIC_EXTENSION_1)


def sign(pdf: bytes, signer: signers.Signer, field_name: str = OPERATOR_FIELD, reason: str | None = None) -> bytes:
    """Sign by incremental update: the issued bytes stay as they were and the signature's
    revision is appended (PAdES baseline B). That revision keeps the file PDF/A (checked by
    documents.pdfa): pyHanko rewrites the XMP metadata, keeping the PDF/A identification, and
    names itself the producer there; the document information's Producer is set to the same
    text, as PDF/A requires the two to agree."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    info = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
    if info is not None:
        info.get_object()["/Producer"] = generic.TextStringObject(VENDOR)
        writer.mark_update(info)
    meta = signers.PdfSignatureMetadata(field_name=field_name, reason=reason, subfilter=fields.SigSeedSubFilter.PADES)
    return _finish(_PdfASigner(meta, signer=signer).async_sign_pdf(writer)).getvalue()


# --- checking a signed copy ----------------------------------------------------------------


def trust_roots(config) -> list[x509.Certificate]:
    """The configured trusted roots (SIGNATURE_TRUST_ROOTS: file paths, or certificates already
    loaded, as the tests pass them), plus the operator's own certificate's issuer chain."""
    base = Path(current_app.instance_path)
    roots = []
    for item in config.get("SIGNATURE_TRUST_ROOTS") or ():
        if isinstance(item, x509.Certificate):
            roots.append(item)
            continue
        data = (base / item).read_bytes()
        if pem.detect(data):
            roots.extend(x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True))
        else:
            roots.append(x509.Certificate.load(data))
    return roots


@dataclass
class Signature:
    """One verified signature of a copy."""

    field: str
    signer: str  # the certificate's common name (the person or the organisation)
    subject: str  # the certificate's whole subject, readable
    issuer: str
    serial: str
    signed_at: datetime | None  # the signer's reported time (or the timestamp's)
    revision_sha256: str  # of the bytes the signature covers (its revision)


@dataclass
class Verified:
    base_sha256: str  # the issued version the copy was signed over
    signatures: list[Signature]  # the parties': those made over the issued version, in the file's order


def prefixes(data: bytes) -> list[int]:
    """The lengths of the file's revisions: each ends at an %%EOF and its line end."""
    return [m.end() for m in EOF.finditer(data)]


def verify_copy(data: bytes, issued: dict[str, bytes], roots: list[x509.Certificate]) -> Verified:
    """Check a signed copy against the issued versions `issued` (sha256 -> PDF bytes); raises
    Refused saying why it is not accepted."""
    if not data.startswith(b"%PDF-"):
        raise Refused(_l("This file is not a PDF."))
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise Refused(_l("The PDF could not be read (%(error)s).", error=str(error)[:200])) from error
    base_length = next((n for n in prefixes(data) if hashlib.sha256(data[:n]).hexdigest() in issued), None)
    after_base = [s for s in embedded if base_length is None or _end(s) > base_length]
    if not after_base:
        raise Refused(_l("The PDF carries no signature besides the operator's: sign it, then upload the signed copy."))
    if base_length is None:
        raise Refused(_l("The signed document is not one GrantFlow issued: its content differs from every issued version. %(how)s",
                         how=_difference(data, issued)))
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    found = []
    for sig in after_base:
        try:
            status = _finish(async_validate_pdf_signature(sig, context))
        except Exception as error:  # a malformed signature dictionary or CMS blob
            raise Refused(_l("The signature “%(name)s” is broken: %(error)s.", name=sig.field_name, error=str(error)[:200])) from error
        if not status.intact or not status.valid:
            raise Refused(_l("The signature “%(name)s” is broken: the signed bytes were changed after signing, or the signature does not match them.", name=sig.field_name))
        if not status.trusted:
            raise Refused(_l("The signature “%(name)s” was made with a certificate (%(subject)s) that does not come from a trusted certification authority.",
                             name=sig.field_name, subject=status.signing_cert.subject.human_friendly))
        found.append(Signature(
            field=sig.field_name,
            signer=status.signing_cert.subject.native.get("common_name") or status.signing_cert.subject.human_friendly,
            subject=status.signing_cert.subject.human_friendly,
            issuer=status.signing_cert.issuer.human_friendly,
            serial=format(status.signing_cert.serial_number, "x"),
            signed_at=(status.timestamp_validity.timestamp if status.timestamp_validity else status.signer_reported_dt),
            revision_sha256=hashlib.sha256(data[: _end(sig)]).hexdigest(),
        ))
    _same_pages(data, issued[hashlib.sha256(data[:base_length]).hexdigest()])
    return Verified(hashlib.sha256(data[:base_length]).hexdigest(), found)


def _end(sig) -> int:
    """Where the signature's signed revision ends: its ByteRange's second part's end."""
    byte_range = [int(n) for n in sig.byte_range]
    return byte_range[2] + byte_range[3]


def _page_contents(pdf: bytes) -> list[bytes]:
    reader = PdfReader(io.BytesIO(pdf))
    return [page.get_contents().get_data() if page.get_contents() is not None else b"" for page in reader.pages]


def _texts(pdf: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _same_pages(data: bytes, issued: bytes) -> None:
    """The signed copy's pages must carry the issued version's content (a signature adds a
    widget annotation; content streams written over the issued revision change the text)."""
    try:
        same = _page_contents(data) == _page_contents(issued)
    except Exception as error:  # pypdf's many errors on a broken update
        raise Refused(_l("The PDF could not be read (%(error)s).", error=str(error)[:200])) from error
    if not same:
        raise Refused(_l("The copy was changed after GrantFlow issued it and before it was signed. %(how)s", how=_difference(data, {"": issued})))


def _difference(data: bytes, issued: dict[str, bytes]) -> str:
    """How the copy differs from the nearest issued version: page count or the first page whose text differs."""
    try:
        theirs = _texts(data)
        best = max(issued.values(), key=lambda pdf: _similarity(theirs, _texts(pdf)))
        ours = _texts(best)
    except Exception:  # an unreadable copy: the general message says enough
        return ""
    if len(theirs) != len(ours):
        return str(_l("It has %(theirs)d pages; the issued document has %(ours)d.", theirs=len(theirs), ours=len(ours)))
    for number, (a, b) in enumerate(zip(theirs, ours, strict=True), start=1):
        if a != b:
            at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            return str(_l("Page %(page)d differs from the issued text at “%(theirs)s” (issued: “%(ours)s”).",
                          page=number, theirs=a[max(0, at - 20): at + 30], ours=b[max(0, at - 20): at + 30]))
    return str(_l("The text is the same, but the file's content is not (layout, images or fonts)."))


def _similarity(a: list[str], b: list[str]) -> int:
    return sum(x == y for x, y in zip(a, b, strict=False)) - abs(len(a) - len(b))
