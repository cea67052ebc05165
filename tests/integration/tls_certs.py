"""Test certificates for the TLS suites, generated at test time (nothing is committed).

Everything is written as PEM, the way ZooKeeper's PEM key stores want it
(ssl.keyStore.type=PEM): a key store is one file with the PKCS#8 private key followed by the
certificate chain; a trust store is a file of CA certificates. Keys are EC P-256 (fast to make;
Java's PemReader reads RSA, EC and DSA PKCS#8 keys).

`subject` below is the RFC 2253 form Java's X500Principal.getName() prints, i.e. the x509 id
both servers must give the connection.
"""
import datetime
import os
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import ipaddress


class Identity:
    """A key and certificate on disk: `cert` (certificate only), `key` (PKCS#8 key only),
    `keystore` (key + certificate chain in one file), and the Java-style `subject`."""

    def __init__(self, directory, name, key, cert, chain, subject, password=None):
        self.name = name
        self.subject = subject
        self.cert = os.path.join(directory, f"{name}.crt.pem")
        self.key = os.path.join(directory, f"{name}.key.pem")
        self.keystore = os.path.join(directory, f"{name}.keystore.pem")
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        if password is not None:
            # PKCS#8 encrypted with PBE-SHA1-3DES: Java 17 (ZooKeeper's PemReader) cannot
            # decrypt PBES2, the default of `openssl pkcs8 -topk8` and of cryptography.
            key_pem = subprocess.run(
                ["openssl", "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-passout",
                 f"pass:{password}"], input=key_pem, capture_output=True, check=True).stdout
        cert_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert] + chain)
        with open(self.cert, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(self.key, "wb") as f:
            f.write(key_pem)
        with open(self.keystore, "wb") as f:
            f.write(key_pem + cert_pem)
        os.chmod(self.key, 0o600)
        os.chmod(self.keystore, 0o600)


def _name(attrs):
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


class CertificateAuthority:
    def __init__(self, directory, common_name):
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = _name([(NameOID.ORGANIZATION_NAME, "Corral Tests"),
                           (NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.utcnow()
        self.cert = (x509.CertificateBuilder()
                     .subject_name(self.name).issuer_name(self.name)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                                  crl_sign=True, content_commitment=False,
                                                  key_encipherment=False, data_encipherment=False,
                                                  key_agreement=False, encipher_only=False,
                                                  decipher_only=False), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.pem = os.path.join(directory, f"{common_name.replace(' ', '_')}.ca.pem")
        with open(self.pem, "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name, attrs, subject, server=False, expired=False, password=None):
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.utcnow()
        if expired:
            before, after = now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)
        else:
            before, after = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
        builder = (x509.CertificateBuilder()
                   .subject_name(_name(attrs)).issuer_name(self.name)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(before).not_valid_after(after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage(
                       [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return Identity(self.directory, name, key, cert, [], subject, password)


class CertificateSet:
    """The whole set used by test_tls.py."""

    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.ca = CertificateAuthority(directory, "Corral Test CA")
        self.rogue_ca = CertificateAuthority(directory, "Rogue CA")
        self.server = self.ca.issue("server", [(NameOID.COMMON_NAME, "localhost")], "CN=localhost",
                                    server=True)
        self.server_encrypted = self.ca.issue("server-encrypted", [(NameOID.COMMON_NAME, "localhost")],
                                              "CN=localhost", server=True, password="s3cret")
        self.client_a = self.ca.issue(
            "client-a", [(NameOID.ORGANIZATION_NAME, "Corral"),
                         (NameOID.ORGANIZATIONAL_UNIT_NAME, "Tests"),
                         (NameOID.COMMON_NAME, "client-a")], "CN=client-a,OU=Tests,O=Corral")
        self.client_b = self.ca.issue(
            "client-b", [(NameOID.ORGANIZATION_NAME, "Corral"), (NameOID.COMMON_NAME, "client-b")],
            "CN=client-b,O=Corral")
        self.admin = self.ca.issue(
            "admin", [(NameOID.ORGANIZATION_NAME, "Corral"), (NameOID.COMMON_NAME, "admin")],
            "CN=admin,O=Corral")
        self.expired = self.ca.issue(
            "expired", [(NameOID.COMMON_NAME, "expired-client")], "CN=expired-client", expired=True)
        self.untrusted = self.rogue_ca.issue(
            "untrusted", [(NameOID.COMMON_NAME, "client-a")], "CN=client-a")
        # Escaping rules of RFC 2253 as Java applies them (',' '+' '=' in values, leading space).
        self.tricky = self.ca.issue(
            "tricky", [(NameOID.ORGANIZATION_NAME, "Acme, Inc."),
                       (NameOID.COMMON_NAME, " a+b=c")],
            "CN=\\ a\\+b\\=c,O=Acme\\, Inc.")
