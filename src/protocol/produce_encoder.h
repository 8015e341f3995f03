#pragma once
// A ProduceEx request frame built one record at a time, for producers that
// batch: the bytes are exactly those encode_request() gives for the same
// ProduceExRequest (tests/unit/protocol_codec_test.cpp checks it), without
// first collecting the records in a vector.
//
//   ProduceExEncoder e("orders", 2, kBrokerTimestamp);
//   if (Status st = e.add(rec); !st) ...            // rejected: the frame is as before
//   std::string frame = std::move(e).finish();    // length and record_count patched
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/messages.h"
#include "common/status.h"

namespace rustlog::protocol {

class ProduceExEncoder {
 public:
  ProduceExEncoder(std::string_view topic, uint32_t partition, int64_t batch_timestamp_us = kBrokerTimestamp);

  // Appends one record. A record that cannot be encoded (400: a header name
  // that is not UTF-8 or longer than 65,535 bytes, a timestamp below -1, a
  // value over 2 GiB) is not added, and the frame stays as it was.
  Status add(const ProducerRecord& record);

  // The same in two steps, so a producer can encode outside its lock:
  // encode() appends the record's bytes to `out` (unchanged on failure);
  // add_encoded() appends bytes encode() made.
  static Status encode(const ProducerRecord& record, std::string& out);
  void add_encoded(std::string_view record_bytes);

  // The frame's size so far (length prefix included) and its record count.
  size_t frame_bytes() const { return buf_.size(); }
  uint32_t record_count() const { return count_; }
  bool empty() const { return count_ == 0; }

  // The whole frame, length and record_count filled in.
  std::string finish() &&;

  // The frame size of a ProduceEx for `topic` holding no record yet.
  static size_t head_bytes(std::string_view topic);

 private:
  std::string buf_;
  size_t count_at_ = 0;  // where record_count sits in buf_
  uint32_t count_ = 0;
};

}  // namespace rustlog::protocol
