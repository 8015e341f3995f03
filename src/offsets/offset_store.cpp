#include "offsets/offset_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/byte_order.h"
#include "storage/record_batch.h"

namespace rustlog {

// Key:   u8 copy (0 primary, 1 mirror) | u16 group_len | group | u16 topic_len | topic | u32 partition
// Value: u8 version (0) | u64 offset | i64 commit_time_us
std::string encode_group_key(const GroupKey& k, KeyCopy copy) {
  std::string out(1 + 2 + k.group.size() + 2 + k.topic.size() + 4, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = static_cast<uint8_t>(copy);
  put_u16(p + 1, static_cast<uint16_t>(k.group.size()));
  std::memcpy(p + 3, k.group.data(), k.group.size());
  uint8_t* q = p + 3 + k.group.size();
  put_u16(q, static_cast<uint16_t>(k.topic.size()));
  std::memcpy(q + 2, k.topic.data(), k.topic.size());
  put_u32(q + 2 + k.topic.size(), k.partition);
  return out;
}

std::optional<GroupKey> decode_group_key(std::string_view b) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  size_t n = b.size();
  if (n < 3 || p[0] > static_cast<uint8_t>(KeyCopy::kMirror)) return std::nullopt;
  size_t gl = get_u16(p + 1);
  if (n < 3 + gl + 2) return std::nullopt;
  size_t tl = get_u16(p + 3 + gl);
  if (n != 3 + gl + 2 + tl + 4) return std::nullopt;
  GroupKey k;
  k.group.assign(b.data() + 3, gl);
  k.topic.assign(b.data() + 5 + gl, tl);
  k.partition = get_u32(p + 5 + gl + tl);
  return k;
}

std::string encode_offset_value(uint64_t offset, int64_t commit_time_us) {
  std::string out(17, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = 0;
  put_u64(p + 1, offset);
  put_u64(p + 9, static_cast<uint64_t>(commit_time_us));
  return out;
}

std::optional<uint64_t> decode_offset_value(std::string_view b) {
  if (b.size() != 17 || b[0] != 0) return std::nullopt;
  return get_u64(reinterpret_cast<const uint8_t*>(b.data()) + 1);
}

std::optional<int64_t> decode_commit_time(std::string_view b) {
  if (b.size() != 17 || b[0] != 0) return std::nullopt;
  return static_cast<int64_t>(get_u64(reinterpret_cast<const uint8_t*>(b.data()) + 9));
}

void OffsetStore::put(const GroupKey& k, uint64_t offset, int64_t commit_us) {
  auto [it, fresh] = offsets_.insert_or_assign(k, offset);
  GroupAge& g = groups_[k.group];
  if (g.keys > 0) by_last_commit_.erase({g.last_commit_us, k.group});
  if (fresh) ++g.keys;
  // A replayed value older than the group's newest commit does not age it.
  g.last_commit_us = g.keys == 1 && fresh ? commit_us : std::max(g.last_commit_us, commit_us);
  by_last_commit_.insert({g.last_commit_us, k.group});
}

void OffsetStore::erase(const GroupKey& k) {
  if (offsets_.erase(k) == 0) return;
  auto it = groups_.find(k.group);
  if (it == groups_.end() || --it->second.keys > 0) return;
  by_last_commit_.erase({it->second.last_commit_us, k.group});
  groups_.erase(it);
}

Status OffsetStore::load() {
  pending_.clear();
  offsets_.clear();
  groups_.clear();
  by_last_commit_.clear();
  uint64_t off = log_->log_start_offset();
  std::vector<Record> recs;
  while (off < log_->high_watermark()) {
    auto r = log_->read(off, 1 << 20);
    if (!r && r.status().code() == ErrorCode::kCorruptRecord) {
      // Damaged bytes (recovery reported them) are stepped over: the other
      // copy of what they held, in its own batch, still applies.
      spdlog::error("__consumer_offsets: {}; skipping offset {}", r.status().message(), off);
      ++off;
      continue;
    }
    if (!r) return r.status();
    if (r->data.empty()) break;
    recs.clear();
    RUSTLOG_RETURN_IF_ERROR(decode_batches(r->data, off, &recs));
    for (const auto& rec : recs) {
      if (!rec.key) continue;
      auto k = decode_group_key(*rec.key);
      if (!k) continue;
      if (!rec.value) {
        erase(*k);
      } else if (auto v = decode_offset_value(*rec.value)) {
        put(*k, *v, decode_commit_time(*rec.value).value_or(rec.timestamp_us));
      }
    }
    off = r->next_offset;
  }
  return Status::ok();
}

Status OffsetStore::append(const std::vector<std::pair<GroupKey, std::optional<uint64_t>>>& entries,
                           int64_t now_us) {
  if (entries.empty()) return Status::ok();
  // The primary batch and its mirror go to one segment in one write, so the
  // flush that acknowledges the primary makes the mirror durable too.
  std::string batches[2];
  for (KeyCopy copy : {KeyCopy::kPrimary, KeyCopy::kMirror}) {
    BatchBuilder b(log_->high_watermark());
    for (const auto& [k, v] : entries) {
      std::optional<std::string> value;
      if (v) value = encode_offset_value(*v, now_us);
      b.add(now_us, encode_group_key(k, copy), value, {});
    }
    batches[static_cast<size_t>(copy)] = b.finish();
  }
  auto r = log_->append_run(batches, now_us);
  if (!r) return r.status();
  pending_.push_back(Pending{log_->high_watermark(), now_us, entries});
  return Status::ok();
}

void OffsetStore::apply_durable() {
  while (!pending_.empty() && pending_.front().end <= log_->recovery_point()) {
    const Pending& p = pending_.front();
    for (const auto& [k, v] : p.entries) {
      if (v) put(k, *v, p.at_us);
      else erase(k);
    }
    pending_.pop_front();
  }
}

Status OffsetStore::commit(const GroupKey& key, uint64_t offset, int64_t now_us) {
  if (key.group.empty()) return Status(ErrorCode::kInvalidRequest, "group id must not be empty");
  if (key.group.size() > 255) return Status(ErrorCode::kInvalidRequest, "group id longer than 255 bytes");
  return append({{key, offset}}, now_us);
}

std::optional<uint64_t> OffsetStore::committed(const GroupKey& key) const {
  auto it = offsets_.find(key);
  if (it == offsets_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> OffsetStore::groups() const {
  std::vector<std::string> out;
  out.reserve(groups_.size());
  for (const auto& [g, age] : groups_) out.push_back(g);
  return out;
}

std::optional<int64_t> OffsetStore::last_commit_us(const std::string& group) const {
  auto it = groups_.find(group);
  if (it == groups_.end()) return std::nullopt;
  return it->second.last_commit_us;
}

Result<OffsetStore::Expired> OffsetStore::expire(int64_t now_us, int64_t retention_us, size_t max_keys) {
  Expired out;
  std::vector<std::pair<GroupKey, std::optional<uint64_t>>> dead;
  for (auto age = by_last_commit_.begin(); age != by_last_commit_.end() && dead.size() < max_keys; ++age) {
    if (now_us - age->first < retention_us) break;  // the oldest group left is still live
    out.groups.push_back(age->second);
    for (auto it = offsets_.lower_bound(GroupKey{age->second, "", 0});
         it != offsets_.end() && it->first.group == age->second && dead.size() < max_keys; ++it)
      dead.emplace_back(it->first, std::nullopt);
  }
  RUSTLOG_RETURN_IF_ERROR(append(dead, now_us));
  out.keys = dead.size();
  return out;
}

std::vector<std::pair<GroupKey, uint64_t>> OffsetStore::group_offsets(const std::string& group) const {
  std::vector<std::pair<GroupKey, uint64_t>> out;
  for (auto it = offsets_.lower_bound(GroupKey{group, "", 0});
       it != offsets_.end() && it->first.group == group; ++it)
    out.emplace_back(it->first, it->second);
  return out;
}

template <typename Keep>
std::vector<GroupKey> OffsetStore::keys_in_log(Keep keep) const {
  std::set<GroupKey> keys;
  for (const auto& [k, v] : offsets_)
    if (keep(k)) keys.insert(k);
  for (const Pending& p : pending_)
    for (const auto& [k, v] : p.entries) {
      if (!keep(k)) continue;
      if (v) keys.insert(k);
      else keys.erase(k);
    }
  return {keys.begin(), keys.end()};
}

Result<size_t> OffsetStore::delete_group(const std::string& group, int64_t now_us) {
  std::vector<std::pair<GroupKey, std::optional<uint64_t>>> dead;
  for (const GroupKey& k : keys_in_log([&](const GroupKey& x) { return x.group == group; }))
    dead.emplace_back(k, std::nullopt);
  RUSTLOG_RETURN_IF_ERROR(append(dead, now_us));
  return dead.size();
}

std::vector<std::pair<GroupKey, uint64_t>> OffsetStore::topic_offsets(const std::string& topic) const {
  std::vector<std::pair<GroupKey, uint64_t>> out;
  for (const auto& [k, v] : offsets_)
    if (k.topic == topic) out.emplace_back(k, v);
  return out;
}

Result<size_t> OffsetStore::delete_topic(const std::string& topic, int64_t now_us) {
  std::vector<std::pair<GroupKey, std::optional<uint64_t>>> dead;
  for (const GroupKey& k : keys_in_log([&](const GroupKey& x) { return x.topic == topic; }))
    dead.emplace_back(k, std::nullopt);
  RUSTLOG_RETURN_IF_ERROR(append(dead, now_us));
  return dead.size();
}

}  // namespace rustlog
