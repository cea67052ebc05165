// Every jute record Corral speaks: the codec (jute.h), data records (Stat, ACL, ...), client
// protocol records and txn/file records. Include this unless a narrower header is enough.
//
// Convention for every record T (all in corral::sdk):
//   void encode(JuteWriter&, const T&);
//   bool decode(JuteReader&, T&);             // false = malformed; never throws
//   std::string encodeToString(const T&);     // helper
//   bool decodeFrom(std::string_view, T&);    // helper; trailing bytes ignored
#pragma once

#include "corral/client_records.h"
#include "corral/data_records.h"
#include "corral/jute.h"
#include "corral/txn_records.h"
