// Validity of X.500 distinguished names written as strings, as Java's
// `new X500Principal(String)` decides it (what ZooKeeper's X509AuthenticationProvider.isValid
// uses for `x509` ACL ids).
#pragma once

#include <string_view>

namespace corral::plugins::x509 {

// True when `name` parses as an RFC 2253 / RFC 1779 distinguished name the way Java's
// X500Name parser (DEFAULT format) reads it:
// - "" is the empty name (valid);
// - RDNs are separated by ',' or ';', the AVAs of one RDN by '+'; an empty RDN is invalid;
// - an AVA is `type=value` with optional spaces around `type` and after '=': `type` is one of
//   Java's keywords (CN C L S ST O OU T IP STREET DC DNQUALIFIER DNQ SURNAME GIVENNAME INITIALS
//   GENERATION EMAIL EMAILADDRESS UID SERIALNUMBER, any case) or a dotted OID (optionally
//   prefixed "OID."), with at least two arcs and the first one 0, 1 or 2;
// - `value` is a "quoted string", '#' followed by the hex of one complete DER value, or a
//   string where , + ; < > " and \ only appear escaped by '\' (or as '\' + two hex digits);
//   Java accepts an unescaped '=' or '#' after the first character.
bool isValidDistinguishedName(std::string_view name);

}  // namespace corral::plugins::x509
