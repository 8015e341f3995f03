#pragma once
// The key-hash partitioner shared by the Producer, `rustlog produce` and the
// Python client (docs/CLIENT.md, "Partitioning", states the same rule):
//
//   partition = FNV-1a-32(key bytes) mod partition_count
//
// FNV-1a 32-bit: h = 2166136261; for each byte b of the key (unsigned):
// h = (h XOR b) * 16777619 mod 2^32. The key's bytes as given, no
// terminator, no encoding step; the empty key is a key (h = 2166136261).
#include <cstdint>
#include <string_view>

namespace rustlog::client {

uint32_t fnv1a_32(std::string_view bytes);

// The partition a key maps to (0 when partition_count is 0).
uint32_t partition_for_key(std::string_view key, uint32_t partition_count);

// Where the Producer sends a record without a key and without an explicit
// partition.
enum class UnkeyedPartitioning {
  // Always partition 0, so unkeyed records keep their order (the default;
  // `rustlog produce` and the Python client do the same).
  kFirstPartition,
  // One partition until its batch is sent, then the next (round robin):
  // full batches and an even spread, as Kafka's sticky partitioner.
  kSticky,
};

}  // namespace rustlog::client
