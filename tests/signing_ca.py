"""A certificate authority made at run time for the signature tests: a root, and signer
certificates it issues (the operator, a community's chairwoman, a municipality's head), as
asn1crypto objects pyHanko takes. Nothing is written to disk but what a test asks for."""

from datetime import UTC, datetime, timedelta

from asn1crypto import keys, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from grantflow.documents.signing import simple_signer


def _name(common: str, org: str) -> cx509.Name:
    return cx509.Name([cx509.NameAttribute(NameOID.COUNTRY_NAME, "LV"),
                       cx509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                       cx509.NameAttribute(NameOID.COMMON_NAME, common)])


def _asn1(cert: cx509.Certificate) -> x509.Certificate:
    return x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class Authority:
    def __init__(self, name: str = "GrantFlow Test Root CA"):
        now = datetime.now(UTC)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = _name(name, "Test")
        self.cert = (
            cx509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
            .public_key(self.key.public_key()).serial_number(cx509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(cx509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                          crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.root = _asn1(self.cert)

    def issue(self, common: str, org: str = "Test"):
        """A signer certificate and key; returns (certificate, key, pyHanko signer)."""
        now = datetime.now(UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            cx509.CertificateBuilder().subject_name(_name(common, org)).issuer_name(self.name)
            .public_key(key.public_key()).serial_number(cx509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(cx509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                          crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return cert, key, simple_signer(_asn1(cert), keys.PrivateKeyInfo.load(der_key), chain=[self.root])

    def pem_files(self, folder, common: str = "Izglītības iniciatīvu centrs"):
        """The root as a PEM file and an operator's key and certificate as PEM files in `folder`
        (the instance folder's layout the configuration names); returns their names."""
        cert, key, _ = self.issue(common)
        (folder / "trust-root.pem").write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        (folder / "operator-cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / "operator-key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"test-passphrase")))
        return "trust-root.pem", "operator-cert.pem", "operator-key.pem"
