// Expiry of consumer-group offsets (--offsets-retention-ms): on the loop's
// tick, a group whose last commit is that old gets a tombstone for each of
// its keys in __consumer_offsets, at most kExpireKeysPerStep per tick, so a
// large expired group costs several short turns, not one long one. The
// tombstones ride the next group commit like any append; compaction then
// drops the expired commits for good.
#include <spdlog/spdlog.h>

#include "broker/broker.h"

namespace rustlog {

namespace {
constexpr size_t kExpireKeysPerStep = 1000;
constexpr int64_t kExpiryCheckUs = 1000 * 1000;  // an idle check is O(1); once a second is plenty
constexpr int64_t kExpiryRetryUs = 10 * kExpiryCheckUs;
}  // namespace

void Broker::expire_offsets(int64_t now_us) {
  if (!offsets_ || now_us < next_offsets_expiry_us_) return;
  next_offsets_expiry_us_ = now_us + kExpiryCheckUs;
  if (offsets_->log()->read_only()) return;  // its fatal error is reported by every commit
  auto r = offsets_->expire(now_us, cfg_.offsets_retention_ms * 1000, kExpireKeysPerStep);
  if (!r) {
    spdlog::error("__consumer_offsets: expiring offsets failed (retrying in {} s): {}",
                  kExpiryRetryUs / 1000000, r.status().message());
    next_offsets_expiry_us_ = now_us + kExpiryRetryUs;
    return;
  }
  if (r->keys == 0) return;
  note_appended(offsets_->log());
  metrics_.offsets_expired.inc(r->keys);
  metrics_dirty_ = true;
  if (r->keys == kExpireKeysPerStep) next_offsets_expiry_us_ = now_us;  // more to do: the next turn
  std::string names;
  for (const auto& g : r->groups) names += (names.empty() ? "'" : ", '") + g + "'";
  spdlog::info("__consumer_offsets: {} committed offsets of group(s) {} expired (no commit for "
               "--offsets-retention-ms {})",
               r->keys, names, cfg_.offsets_retention_ms);
}

}  // namespace rustlog
