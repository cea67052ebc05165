#include "thrift_call.h"

#include <array>
#include <utility>

namespace corral::plugins::thrift {
namespace {

constexpr std::array<std::pair<std::string_view, Method>, 21> kMethods{{
    {"openSession", Method::kOpenSession},
    {"ping", Method::kPing},
    {"closeSession", Method::kCloseSession},
    {"addAuth", Method::kAddAuth},
    {"whoAmI", Method::kWhoAmI},
    {"create", Method::kCreate},
    {"remove", Method::kRemove},
    {"exists", Method::kExists},
    {"getData", Method::kGetData},
    {"setData", Method::kSetData},
    {"getChildren", Method::kGetChildren},
    {"getACL", Method::kGetAcl},
    {"setACL", Method::kSetAcl},
    {"sync", Method::kSync},
    {"getEphemerals", Method::kGetEphemerals},
    {"getAllChildrenNumber", Method::kGetAllChildrenNumber},
    {"multi", Method::kMulti},
    {"multiRead", Method::kMultiRead},
    {"addWatch", Method::kAddWatch},
    {"removeWatches", Method::kRemoveWatches},
    {"setWatches", Method::kSetWatches},
}};

}  // namespace

std::string_view methodName(Method method) noexcept {
  for (const auto& [name, value] : kMethods) {
    if (value == method) return name;
  }
  return "?";
}

const Method* findMethod(std::string_view name) noexcept {
  // 21 short names: a linear scan is as fast as a hash here and allocates nothing.
  for (const auto& entry : kMethods) {
    if (entry.first == name) return &entry.second;
  }
  return nullptr;
}

}  // namespace corral::plugins::thrift
