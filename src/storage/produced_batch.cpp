#include "storage/produced_batch.h"

#include <string>

#include "common/byte_order.h"

namespace rustlog {

namespace {
Status invalid(const std::string& what) { return Status(ErrorCode::kInvalidRequest, "produced batch: " + what); }
}  // namespace

Result<ProducedBatch> check_produced_batch(std::string_view batch, const ProducedBatchRules& rules,
                                           const std::function<void(const RecordView&)>& each) {
  const auto* p = reinterpret_cast<const uint8_t*>(batch.data());
  ProducedBatch out;
  BatchHeader& h = out.header;
  const BatchError e = parse_batch_header(p, batch.size(), &h);
  if (e != BatchError::kOk) return invalid(std::string("not a record batch (") + batch_error_name(e) + ")");
  if (h.total_size() != batch.size())
    return invalid("bytes after the batch: " + std::to_string(batch.size() - h.total_size()));
  if (h.record_count == 0) return invalid("no records");
  if ((h.attributes & ~kBatchCompressionMask) != 0) return invalid("attribute bits other than the codec are set");
  const auto codec = codec_from_bits(h.attributes & kBatchCompressionMask);
  if (!codec)
    return invalid("unknown compression codec " + std::to_string(h.attributes & kBatchCompressionMask) +
                   " (known: 0 none, 1 lz4, 2 zstd)");
  out.codec = *codec;
  if (!batch_crc_ok(p, h))
    return invalid("CRC mismatch (the CRC covers the bytes as sent: with a codec, the compressed ones)");
  out.broker_time = h.first_timestamp == -1;
  if (out.broker_time && h.max_timestamp != -1)
    return invalid("first_timestamp -1 (broker time) needs max_timestamp -1");
  RecordWalker w(batch, /*check_crc=*/false, rules.max_decompressed);
  RecordView r;
  while (w.next(&r)) {
    if (out.broker_time ? r.timestamp_us != -1 : r.timestamp_us < 0)
      return invalid(out.broker_time ? "a broker-time batch (first_timestamp -1) holds a record timestamp"
                                     : "record timestamp " + std::to_string(r.timestamp_us) +
                                           " is negative (-1 for all records of a batch = broker time)");
    if (rules.keys_required && r.key_len < 0)
      return invalid("the topic has cleanup.policy compact: every record needs a key");
    if (each) each(r);
  }
  // Records that do not decode are the producer's bytes, not damage on our
  // disk: 400 (a block past the bound keeps 413).
  if (!w.status())
    return Status(w.status().code() == ErrorCode::kTooLarge ? ErrorCode::kTooLarge : ErrorCode::kInvalidRequest,
                  "produced batch: " + w.status().message());
  return out;
}

void place_produced_batch(uint8_t* p, size_t n, const ProducedBatch& b, uint64_t base_offset,
                          int64_t append_time_us) {
  put_u64(p, base_offset);
  if (b.broker_time) {
    put_u64(p + kBatchFirstTimestampOffset, static_cast<uint64_t>(append_time_us));
    put_u64(p + kBatchMaxTimestampOffset, static_cast<uint64_t>(append_time_us));
  }
  put_u32(p + kBatchCrcOffset, compute_batch_crc(p, n));
}

Status recompress_batch(std::string* batch, const Compression& compression, size_t max_decompressed) {
  auto* p = reinterpret_cast<uint8_t*>(batch->data());
  BatchHeader h;
  if (parse_batch_header(p, batch->size(), &h) != BatchError::kOk || h.total_size() != batch->size())
    return Status(ErrorCode::kInternal, "recompress: not one whole batch");
  const auto codec = codec_from_bits(h.attributes & kBatchCompressionMask);
  if (!codec) return Status(ErrorCode::kCorruptRecord, "recompress: unknown codec");
  if (*codec == compression.codec || h.record_count == 0) return Status::ok();
  const std::string_view stored = std::string_view(*batch).substr(kBatchHeaderSize);
  std::string plain;
  RUSTLOG_RETURN_IF_ERROR(decompress_block(*codec, stored, max_decompressed, &plain));
  std::string out = batch->substr(0, kBatchHeaderSize);
  h.attributes &= static_cast<uint16_t>(~kBatchCompressionMask);
  if (compression.codec != Codec::kNone) {
    RUSTLOG_RETURN_IF_ERROR(compress_block(compression, plain, &out));
    if (out.size() - kBatchHeaderSize < plain.size()) h.attributes |= static_cast<uint16_t>(compression.codec);
    else out.resize(kBatchHeaderSize);
  }
  if ((h.attributes & kBatchCompressionMask) == 0) out.append(plain);
  encode_batch_header(reinterpret_cast<uint8_t*>(out.data()), out.size(), h);
  *batch = std::move(out);
  return Status::ok();
}

}  // namespace rustlog
