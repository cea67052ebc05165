#include "kernel/admission/x500_name.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <memory>
#include <string_view>

namespace corral::kernel::admission {
namespace {

// Java's AVAKeyword table, restricted to the keywords it uses for RFC 2253 output.
const char* rfc2253Keyword(int nid) {
  switch (nid) {
    case NID_commonName: return "CN";
    case NID_countryName: return "C";
    case NID_localityName: return "L";
    case NID_stateOrProvinceName: return "ST";
    case NID_organizationName: return "O";
    case NID_organizationalUnitName: return "OU";
    case NID_streetAddress: return "STREET";
    case NID_domainComponent: return "DC";
    case NID_userId: return "UID";
    default: return nullptr;
  }
}

// AVA.isDerString(value, canonical = false).
bool isJavaDerString(int type) {
  switch (type) {
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_T61STRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_GENERALSTRING:
    case V_ASN1_BMPSTRING:
    case V_ASN1_UTF8STRING:
      return true;
    default:
      return false;
  }
}

void appendHexDer(std::string& out, const ASN1_STRING* value) {
  std::unique_ptr<ASN1_TYPE, decltype(&ASN1_TYPE_free)> any(ASN1_TYPE_new(), &ASN1_TYPE_free);
  if (!any || ASN1_TYPE_set1(any.get(), ASN1_STRING_type(value), value) != 1) return;
  unsigned char* der = nullptr;
  const int length = i2d_ASN1_TYPE(any.get(), &der);
  if (length <= 0) return;
  static constexpr char kHex[] = "0123456789abcdef";
  out += '#';
  for (int i = 0; i < length; ++i) {
    out += kHex[der[i] >> 4];
    out += kHex[der[i] & 0xf];
  }
  OPENSSL_free(der);
}

void appendEscaped(std::string& out, std::string_view text) {
  static constexpr std::string_view kEscapees = ",=+<>#;\"\\";
  // Java escapes spaces (and CRs) before the first and after the last other character.
  size_t lead = 0;
  while (lead < text.size() && (text[lead] == ' ' || text[lead] == '\r')) ++lead;
  size_t trail_end = text.size();
  while (trail_end > lead && (text[trail_end - 1] == ' ' || text[trail_end - 1] == '\r')) --trail_end;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') {
      out += "\\00";
      continue;
    }
    if (kEscapees.find(c) != std::string_view::npos || i < lead || i >= trail_end) out += '\\';
    out += c;
  }
}

void appendAva(std::string& out, const X509_NAME_ENTRY* entry) {
  const ASN1_OBJECT* object = X509_NAME_ENTRY_get_object(entry);
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(entry);
  const char* keyword = rfc2253Keyword(OBJ_obj2nid(object));
  if (keyword != nullptr) {
    out += keyword;
  } else {
    char oid[128];
    const int length = OBJ_obj2txt(oid, sizeof oid, object, /*no_name=*/1);
    out.append(oid, length > 0 ? std::min<size_t>(static_cast<size_t>(length), sizeof oid - 1) : 0);
  }
  out += '=';
  if (keyword == nullptr || !isJavaDerString(ASN1_STRING_type(value))) {
    appendHexDer(out, value);
    return;
  }
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0) {
    appendHexDer(out, value);
    return;
  }
  appendEscaped(out, std::string_view(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length)));
  OPENSSL_free(utf8);
}

}  // namespace

std::string rfc2253Name(const X509_name_st* name) {
  std::string out;
  if (name == nullptr) return out;
  const int count = X509_NAME_entry_count(name);
  // Entries are stored first to last with their RDN index (X509_NAME_ENTRY_set); RFC 2253
  // prints the RDNs from the last to the first, the AVAs inside one RDN in stored order.
  int i = count - 1;
  while (i >= 0) {
    const int set = X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i));
    int first = i;
    while (first > 0 && X509_NAME_ENTRY_set(X509_NAME_get_entry(name, first - 1)) == set) --first;
    if (!out.empty()) out += ',';
    for (int j = first; j <= i; ++j) {
      if (j != first) out += '+';
      appendAva(out, X509_NAME_get_entry(name, j));
    }
    i = first - 1;
  }
  return out;
}

}  // namespace corral::kernel::admission
