#pragma once
// Every record that can be acknowledged can be fetched: before a batch is
// appended, the broker checks that a fetch answer can carry it within
// max_frame_bytes — the FetchEx answer holding the whole batch (a fetch
// always returns its first batch whole) and the v0 Fetch answer holding any
// one of its records (a v0 fetch always returns its first record).
// (docs/PROTOCOL.md, "Record size limits".)
#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace rustlog {

// `batch` is one whole, valid batch. 413 (kTooLarge) naming the sizes when a
// fetch could not return it; ok otherwise.
Status check_fetchable(std::string_view batch, uint32_t record_count, uint32_t max_frame_bytes);

}  // namespace rustlog
