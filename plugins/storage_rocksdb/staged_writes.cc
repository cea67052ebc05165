#include "staged_writes.h"

namespace corral::plugins::rocks {

using sdk::Status;

sdk::Result<StagedWrites::Slot*> StagedWrites::slot(Cf cf, std::string_view key) {
  auto it = slots_.find(std::make_pair(cf, std::string(key)));
  if (it != slots_.end()) return &it->second;
  Slot fresh;
  NodeCache::Miss miss;
  if (cf == Cf::kNodes && cache_ != nullptr) {
    if (auto cached = cache_->find(key, miss)) {
      fresh.original = *cached;
      fresh.current = *cached;
      return &slots_.emplace(std::make_pair(cf, std::string(key)), std::move(fresh)).first->second;
    }
  }
  if (pending_ != nullptr) {
    if (auto value = pending_->pending(cf, key)) {
      fresh.original = *value;
      fresh.current = std::move(*value);
      return &slots_.emplace(std::make_pair(cf, std::string(key)), std::move(fresh)).first->second;
    }
  }
  std::string value;
  auto status = store_.db().Get(rocksdb::ReadOptions(), store_.cf(cf), rocksdb::Slice(key.data(), key.size()), &value);
  if (status.ok()) {
    if (cf == Cf::kNodes && cache_ != nullptr) cache_->fill(key, value, miss);
    fresh.original = value;
    fresh.current = std::move(value);
  } else if (!status.IsNotFound()) {
    return toStatus(status, "read");
  }
  auto [inserted, ok] = slots_.emplace(std::make_pair(cf, std::string(key)), std::move(fresh));
  (void)ok;
  return &inserted->second;
}

sdk::Result<std::optional<std::string>> StagedWrites::get(Cf cf, std::string_view key) {
  auto found = slot(cf, key);
  if (!found.isOk()) return found.status();
  return (*found)->current;
}

void StagedWrites::put(Cf cf, std::string_view key, std::string value, bool known_absent) {
  auto it = slots_.find(std::make_pair(cf, std::string(key)));
  if (it == slots_.end() && known_absent) {
    it = slots_.emplace(std::make_pair(cf, std::string(key)), Slot{}).first;
  }
  if (it == slots_.end()) {
    auto found = slot(cf, key);
    // A failed read leaves no undo value: record the key as absent (the batch still applies).
    if (!found.isOk()) it = slots_.emplace(std::make_pair(cf, std::string(key)), Slot{}).first;
    else it = slots_.find(std::make_pair(cf, std::string(key)));
  }
  it->second.current = std::move(value);
}

void StagedWrites::erase(Cf cf, std::string_view key, bool known_present) {
  auto it = slots_.find(std::make_pair(cf, std::string(key)));
  if (it == slots_.end() && known_present) {
    it = slots_.emplace(std::make_pair(cf, std::string(key)), Slot{std::string(), std::string()}).first;
  }
  if (it == slots_.end()) {
    auto found = slot(cf, key);
    if (!found.isOk()) return;
    it = slots_.find(std::make_pair(cf, std::string(key)));
  }
  it->second.current.reset();
}

void StagedWrites::publish() {
  if (cache_ == nullptr) return;
  for (auto& [id, slot] : slots_) {
    if (id.first != Cf::kNodes || slot.current == slot.original) continue;
    if (slot.current) {
      cache_->put(id.second, *slot.current);
    } else {
      cache_->erase(id.second);
    }
  }
}

Status StagedWrites::build(rocksdb::WriteBatch& batch, UndoRecord& undo, std::vector<ApplyWriter::Change>* changes) {
  for (auto& [id, slot] : slots_) {
    if (slot.current == slot.original) continue;
    const auto& [cf, key] = id;
    rocksdb::Status status;
    if (slot.current) {
      status = batch.Put(store_.cf(cf), key, *slot.current);
    } else {
      status = batch.Delete(store_.cf(cf), key);
    }
    if (!status.ok()) return toStatus(status, "batch");
    undo.entries.push_back(UndoEntry{cf, key, slot.original});
    if (changes != nullptr) changes->push_back(ApplyWriter::Change{cf, key, slot.current});
  }
  return Status::ok();
}

}  // namespace corral::plugins::rocks
