#pragma once
// The one reader of batches in a segment's bytes. Given a byte range and the
// offset the next batch must continue from, it yields events:
//
//   kBatch      a whole, valid batch: position, header, and its bytes
//   kCorrupt    bytes [position, resume_position) hold no valid batch; the
//               scan resumes at the next valid batch (resume_header)
//   kTornTail   from `position` on nothing valid follows (or the caller
//               asked to stop at the first fault): the scan ends there
//
// each fault with the BatchError saying why. Recovery (truncate the torn
// tail), the index rebuild, `rustlog verify`, `rustlog dump` and Segment's
// reads are its consumers; they decide what an event means (truncate,
// report, fail a read) — the scanner only reads.
//
//   BatchScanner sc(bytes, {.position = 0, .next_offset = base, .segment_base = base});
//   ScanEvent ev;
//   while (sc.next(&ev, OnFault::kResync)) switch (ev.kind) { ... }
//   RUSTLOG_RETURN_IF_ERROR(sc.status());  // a read of the bytes failed
//
// A valid batch: its header parses (parse_batch_header), its offsets fit the
// segment (base >= segment base, last - base < 2^32), its base offset is at
// least the end of the batch before (exactly the expected one for the first
// batch when `exact_first` is set: an index entry promised it), unless
// check_crc is off its CRC matches, and with check_records its records fill
// it exactly as its header says (the record walk of decode_batch: bounds,
// increasing offset deltas, last offset delta, max timestamp). Recovery and
// verify ask for that too, so a batch they keep is one every reader decodes:
// a CRC only proves the bytes are those written, not that a writer wrote a
// well-formed batch.
//
// After a fault the scan resumes only where a batch start of this log is
// proven, never at bytes that merely look like a batch (a record's value may
// hold a well-formed batch of its own):
//   - an anchor (an offset-index entry): the first one after the fault whose
//     position holds a valid batch with exactly the anchor's base offset;
//   - the damaged batch's own length, when it was read and is in range: the
//     chain of valid batches from where it points, continuing the offsets,
//     must land exactly on that anchor, continuing into its offset (or on
//     the end of the bytes when no anchor follows).
// Without either, nothing valid follows: kTornTail.
//
// The zero tail (docs/STORAGE.md, section 2, rule Z): where a fault starts
// and the bytes from there to the end are zeros, at least kMinZeroTail of
// them, the data ends there: the rest is preallocated space never written.
// No batch, whole or torn, looks like that: a batch's length field is at
// least 31 and its magic byte (byte 12) is 1, so a run of 13 zeros or more
// is never the start of one. The scan ends without an event (next()
// returns false) and zero_tail() says where. Fewer zeros, or zeros followed
// by anything else, are a fault as before (Kafka: the first invalid batch).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "storage/record_batch.h"
#include "storage/verified_ranges.h"

namespace rustlog {

// Random access to the bytes being scanned: a mapping, a buffer, or pread.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // n bytes at pos (pos + n <= size()), valid until the next call.
  virtual Result<const uint8_t*> bytes(uint64_t pos, size_t n) = 0;
};

// Bytes already in memory (a mapping or a buffer).
class MemoryBytes final : public ByteSource {
 public:
  MemoryBytes(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint64_t size() const override { return size_; }
  Result<const uint8_t*> bytes(uint64_t pos, size_t) override { return data_ + pos; }

 private:
  const uint8_t* data_;
  uint64_t size_;
};

// Positions claimed to be batch starts (a segment's offset index), each
// with the base offset claimed for it. Each is checked before it is used.
struct BatchAnchor {
  uint64_t position = 0;
  uint64_t base_offset = 0;
};
class BatchAnchors {
 public:
  virtual ~BatchAnchors() = default;
  // The first claimed batch start at a position > pos, if any.
  virtual std::optional<BatchAnchor> first_after(uint64_t pos) const = 0;
};

// The shortest zero tail (rule Z above): a batch header's length. The
// preallocation policy keeps at least this much ahead of the data, or none.
inline constexpr uint64_t kMinZeroTail = kBatchHeaderSize;

struct ScanStart {
  uint64_t position = 0;      // where the first batch should start
  uint64_t next_offset = 0;   // the offset it should continue from
  uint64_t segment_base = 0;  // the segment's base offset
  bool exact_first = false;   // the first batch's base offset must equal next_offset
  bool check_crc = true;
  bool check_records = false;  // with check_crc: the records must match the header
  const BatchAnchors* anchors = nullptr;  // where resynchronisation may resume
  // Known-good ranges of these bytes (verified_ranges.h): a batch whose CRC
  // next() checked is added, and one inside a range is not checked again
  // when it starts where a batch is proven to start: byte 0, `position` when
  // exact_first or proven_start, or the end of the batch next() returned
  // before it. Resynchronisation always checks CRCs.
  VerifiedRanges* verified = nullptr;
  bool proven_start = false;  // `position` is a batch start (the caller walked there)
};

enum class ScanKind : uint8_t { kBatch, kCorrupt, kTornTail };

// What the scanner does when the bytes at the scan position are no valid batch.
enum class OnFault : uint8_t {
  kResync,  // look for the next proven batch start: kCorrupt when found, else kTornTail
  kStop,    // end the scan here with kTornTail (recovery: the rest is cut)
};

struct ScanEvent {
  ScanKind kind = ScanKind::kBatch;
  uint64_t position = 0;  // the batch, or where the fault starts
  // kBatch: the batch. Faults: the header as far as it was read (the
  // declared length, the magic byte, ...), for messages.
  BatchHeader header;
  const uint8_t* bytes = nullptr;  // kBatch with check_crc: the whole batch
  BatchError reason = BatchError::kOk;
  uint64_t first_offset = 0;  // faults: the first offset the damage makes unreadable
  uint64_t resume_position = 0;  // kCorrupt: the next proven batch
  BatchHeader resume_header;     // kCorrupt: its header
};

class BatchScanner {
 public:
  BatchScanner(ByteSource& source, const ScanStart& start);

  // The next event; false at the end of the bytes, after a kTornTail, or
  // when reading failed (status()).
  bool next(ScanEvent* ev, OnFault on_fault);
  const Status& status() const { return status_; }
  // Where the zero tail starts, once the scan ended at one (rule Z above).
  std::optional<uint64_t> zero_tail() const { return zero_tail_; }
  uint64_t position() const { return pos_; }     // where the next event starts
  uint64_t next_offset() const { return next_; }  // what the next batch must continue from

  // The fault, if any, of the bytes at `pos` as the batch continuing from
  // `min_offset` (kOk: *h is a valid batch). Reads through `source`. With
  // `verified` (pos being a proven batch start), the CRC of a batch it
  // covers is not recomputed and a batch whose CRC matched is added to it.
  static BatchError check_at(ByteSource& source, uint64_t pos, uint64_t min_offset, bool exact,
                             uint64_t segment_base, bool check_crc, BatchHeader* h,
                             const uint8_t** bytes, Status* io, VerifiedRanges* verified = nullptr,
                             bool check_records = false);
  // The length of the zero tail of the bytes within [from, size()): the
  // run of zeros they end with when it is at least kMinZeroTail long, else 0
  // (read backwards, 64 KiB at a time).
  static Result<uint64_t> zero_tail_length(ByteSource& source, uint64_t from);

 private:
  std::optional<uint64_t> resync(uint64_t from, const BatchHeader& damaged, BatchError why, BatchHeader* h);
  // Whether valid batches from `pos`, continuing the offsets, end exactly
  // at `limit` with offsets that continue into `limit_base`.
  bool chain_lands(uint64_t pos, uint64_t limit, uint64_t limit_base);

  ByteSource& src_;
  uint64_t pos_;
  uint64_t next_;
  uint64_t base_;
  bool exact_;
  bool check_crc_;
  bool check_records_;
  const BatchAnchors* anchors_;
  VerifiedRanges* verified_;
  bool on_chain_;  // pos_ is a proven batch start (see ScanStart::verified)
  bool done_ = false;
  std::optional<uint64_t> zero_tail_;
  Status status_;
};

}  // namespace rustlog
