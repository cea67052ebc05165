// X.500 names as Java prints them: X500Principal.getName() (RFC 2253 form), which is what
// ZooKeeper's X509AuthenticationProvider uses as the x509 id of a client certificate.
#pragma once

#include <string>

struct X509_name_st;

namespace corral::kernel::admission {

// The RFC 2253 string of `name`, byte for byte as Java's X500Principal.getName():
// - RDNs from the last to the first (RFC 2253 order), joined by ',' without spaces; the AVAs of
//   a multi-valued RDN joined by '+', in encoded order;
// - attribute types CN, C, L, ST, O, OU, STREET, DC and UID by keyword, any other type as its
//   dotted OID (e.g. emailAddress is 1.2.840.113549.1.9.1);
// - a value whose type is an OID, or that is not a Printable/T61/IA5/General/BMP/UTF8 string,
//   as '#' + lower-case hex of its DER encoding; otherwise its UTF-8 text with
//   , = + < > # ; " \ escaped by a backslash, NUL as \00, and leading/trailing spaces escaped.
std::string rfc2253Name(const X509_name_st* name);

}  // namespace corral::kernel::admission
