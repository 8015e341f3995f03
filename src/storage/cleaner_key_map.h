#pragma once
// The cleaner's key -> latest offset map (Kafka's SkimpyOffsetMap): a fixed
// open-addressing table of 24-byte slots (a 128-bit XXH3 digest of the key
// and the offset), sized from a byte budget (--cleaner-buffer-bytes) and
// filled to at most 90 %. Two keys with the same 128-bit digest would be
// taken for one (the older one's records then lose to the newer one's);
// at 2^-128 per pair that is accepted, as Kafka accepts it for MD5.
//
// No I/O. Making it ready costs time proportional to its slots, so reset()
// only sizes it and prepare(n) initialises up to n slots per call: the
// cleaner spreads that over its bounded steps.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace rustlog {

class CleanerKeyMap {
 public:
  static constexpr size_t kSlotBytes = 24;
  static constexpr double kMaxLoad = 0.9;

  // A map of at most budget_bytes (at least 2 slots), for at most
  // `max_entries` keys (fewer slots when fewer keys can occur).
  void reset(uint64_t budget_bytes, uint64_t max_entries = UINT64_MAX);
  // Initialises up to `n` more slots; true once the map is ready.
  bool prepare(size_t n);
  bool ready() const { return prepared_ == slots_; }

  size_t slots() const { return slots_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }  // entries it accepts (90 % of the slots)
  bool full() const { return size_ >= capacity_; }
  uint64_t memory_bytes() const { return slots_ * kSlotBytes; }

  // Records `offset` as the key's latest. False (nothing changed) when the
  // key is new and the map is full.
  bool put(std::string_view key, uint64_t offset);
  std::optional<uint64_t> get(std::string_view key) const;

 private:
  struct Slot {
    uint64_t hi;
    uint64_t lo;
    uint64_t offset;  // kEmpty: unused
  };
  static constexpr uint64_t kEmpty = UINT64_MAX;  // no batch reaches it (parse_batch_header)
  size_t find(uint64_t hi, uint64_t lo) const;    // the key's slot or the empty one it would take

  std::unique_ptr<Slot[]> table_;
  size_t allocated_ = 0;
  size_t slots_ = 0;
  size_t prepared_ = 0;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace rustlog
