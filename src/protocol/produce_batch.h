#pragma once
// The Producer's compressed requests: the records of a ProduceEx request
// frame (one partition's batch, as the Producer accumulates them) rebuilt as
// one record batch, its records section compressed, in a ProduceBatch frame
// (docs/PROTOCOL.md, "0x1A ProduceBatch"). The batch's base offset is 0 (the
// broker assigns it); when no record has a timestamp of its own, the batch is
// a broker-time one (first_timestamp -1: each record gets the append time,
// as with ProduceEx).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/compression.h"
#include "common/status.h"

namespace rustlog::protocol {

// 400 when the frame is no ProduceEx request, or mixes records with and
// without their own timestamp (one batch has one timestamp rule).
Result<std::string> produce_batch_frame(std::string_view produce_ex_frame, const Compression& compression,
                                        uint32_t max_frame_bytes);

}  // namespace rustlog::protocol
