#include "client/partitioner.h"

namespace rustlog::client {

uint32_t fnv1a_32(std::string_view bytes) {
  uint32_t h = 2166136261u;
  for (unsigned char ch : bytes) {
    h ^= ch;
    h *= 16777619u;
  }
  return h;
}

uint32_t partition_for_key(std::string_view key, uint32_t partition_count) {
  if (partition_count == 0) return 0;
  return fnv1a_32(key) % partition_count;
}

}  // namespace rustlog::client
