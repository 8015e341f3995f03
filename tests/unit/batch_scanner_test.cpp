// The batch scanner (storage/batch_scanner.h) alone, over bytes in memory:
// every event kind, every BatchError a scan can report, the stop/resync
// choice, and random or truncated bytes that never crash it, never make it
// read outside the buffer, and never turn a read error into a torn tail.
#include "storage/batch_scanner.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_order.h"
#include "support/record_gen.h"

namespace rustlog {
namespace {

using test::RecordGen;
using test::seed_trace;

uint8_t* u8(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

std::string batch(uint64_t base, size_t records, size_t value_bytes = 20) {
  BatchBuilder b(base);
  for (size_t i = 0; i < records; ++i)
    b.add(test::kBaseTimestampUs + static_cast<int64_t>(i), std::nullopt,
          std::string(value_bytes, static_cast<char>('a' + i % 26)), {});
  return b.finish();
}

// Rewrites the CRC after a header edit, so that only the edited field is wrong.
void reseal(std::string& b) { put_u32(u8(b) + kBatchCrcOffset, compute_batch_crc(u8(b), b.size())); }

// A copy of the bytes in a heap block of exactly their size (so ASan sees
// any read past the end), and a check of every range the scanner asks for.
class CheckedBytes final : public ByteSource {
 public:
  explicit CheckedBytes(const std::string& s) : size_(s.size()), data_(new uint8_t[s.size() + 1]) {
    std::copy(s.begin(), s.end(), data_.get());
  }
  uint64_t size() const override { return size_; }
  Result<const uint8_t*> bytes(uint64_t pos, size_t n) override {
    EXPECT_LE(pos + n, size_) << "read outside the buffer: " << pos << "+" << n;
    if (fail_at_call_ && ++calls_ >= *fail_at_call_) return Status(ErrorCode::kStorageError, "EIO");
    return data_.get() + pos;
  }
  void fail_from_call(uint64_t n) { fail_at_call_ = n; }

 private:
  uint64_t size_;
  std::unique_ptr<uint8_t[]> data_;
  std::optional<uint64_t> fail_at_call_;
  uint64_t calls_ = 0;
};

std::vector<ScanEvent> scan(const std::string& bytes, ScanStart start, OnFault on_fault,
                            Status* status = nullptr, std::optional<uint64_t>* zero_tail = nullptr) {
  CheckedBytes src(bytes);
  BatchScanner sc(src, start);
  std::vector<ScanEvent> out;
  ScanEvent ev;
  while (sc.next(&ev, on_fault)) {
    out.push_back(ev);
    if (out.size() > bytes.size() + 1) {
      ADD_FAILURE() << "the scan does not end";
      break;
    }
  }
  if (status) *status = sc.status();
  if (zero_tail) *zero_tail = sc.zero_tail();
  return out;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('\0') == std::string_view::npos; }

ScanStart at(uint64_t base = 0) { return ScanStart{.position = 0, .next_offset = base, .segment_base = base}; }

struct Log {
  std::string bytes;
  std::vector<uint64_t> pos;   // where each batch starts
  std::vector<uint64_t> base;  // its base offset
};
Log three_batches() {
  Log l;
  for (auto [b, n] : {std::pair<uint64_t, size_t>{100, 2}, {102, 3}, {105, 1}}) {
    l.pos.push_back(l.bytes.size());
    l.base.push_back(b);
    l.bytes += batch(b, n);
  }
  return l;
}

TEST(BatchScannerTest, WholeBatchesAreBatchEvents) {
  const Log l = three_batches();
  Status st;
  auto ev = scan(l.bytes, at(100), OnFault::kResync, &st);
  ASSERT_TRUE(st.is_ok());
  ASSERT_EQ(ev.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ev[i].kind, ScanKind::kBatch);
    EXPECT_EQ(ev[i].position, l.pos[i]);
    EXPECT_EQ(ev[i].header.base_offset, l.base[i]);
    ASSERT_NE(ev[i].bytes, nullptr);
    EXPECT_EQ(ev[i].reason, BatchError::kOk);
  }
  EXPECT_EQ(ev[2].header.next_offset(), 106u);
  EXPECT_TRUE(scan("", at(), OnFault::kResync).empty());
}

TEST(BatchScannerTest, ACorruptRangeNamesWhereTheScanResumes) {
  Log l = three_batches();
  u8(l.bytes)[l.pos[1] + kBatchHeaderSize + 3] ^= 0x10;
  auto ev = scan(l.bytes, at(100), OnFault::kResync);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].kind, ScanKind::kBatch);
  EXPECT_EQ(ev[1].kind, ScanKind::kCorrupt);
  EXPECT_EQ(ev[1].reason, BatchError::kCrcMismatch);
  EXPECT_EQ(ev[1].position, l.pos[1]);
  EXPECT_EQ(ev[1].first_offset, 102u);
  EXPECT_EQ(ev[1].resume_position, l.pos[2]);
  EXPECT_EQ(ev[1].resume_header.base_offset, 105u);
  EXPECT_EQ(ev[1].header.base_offset, 102u);  // the header as read, for messages
  EXPECT_EQ(ev[2].kind, ScanKind::kBatch);
  EXPECT_EQ(ev[2].position, l.pos[2]);
}

TEST(BatchScannerTest, NothingValidAfterAFaultIsATornTail) {
  Log l = three_batches();
  const std::string cut = l.bytes.substr(0, l.pos[2] + 20);
  auto ev = scan(cut, at(100), OnFault::kResync);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[2].kind, ScanKind::kTornTail);
  EXPECT_EQ(ev[2].position, l.pos[2]);
  EXPECT_EQ(ev[2].reason, BatchError::kShortHeader);
  EXPECT_EQ(ev[2].first_offset, 105u);
}

TEST(BatchScannerTest, StopEndsTheScanAtTheFirstFaultWithoutLookingFurther) {
  Log l = three_batches();
  u8(l.bytes)[l.pos[1] + kBatchHeaderSize + 3] ^= 0x10;
  auto ev = scan(l.bytes, at(100), OnFault::kStop);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].kind, ScanKind::kTornTail);
  EXPECT_EQ(ev[1].reason, BatchError::kCrcMismatch);
  EXPECT_EQ(ev[1].position, l.pos[1]);
}

TEST(BatchScannerTest, CrcCheckCanBeLeftToTheCaller) {
  Log l = three_batches();
  u8(l.bytes)[l.pos[1] + kBatchHeaderSize + 3] ^= 0x10;
  ScanStart s = at(100);
  s.check_crc = false;
  auto ev = scan(l.bytes, s, OnFault::kResync);
  ASSERT_EQ(ev.size(), 3u);
  for (const auto& e : ev) EXPECT_EQ(e.kind, ScanKind::kBatch);
}

// A batch whose CRC matches but whose records contradict its header (a
// writer's bug, or forged bytes): only a scan that checks records refuses it.
TEST(BatchScannerTest, ACrcValidBatchWhoseRecordsDoNotMatchItsHeaderIsRefusedWhenRecordsAreChecked) {
  Log l = three_batches();
  put_u64(u8(l.bytes) + l.pos[1] + kBatchMaxTimestampOffset, 1);  // no record has timestamp 1
  std::string b1 = l.bytes.substr(l.pos[1], l.pos[2] - l.pos[1]);
  reseal(b1);
  l.bytes.replace(l.pos[1], b1.size(), b1);
  auto plain = scan(l.bytes, at(100), OnFault::kResync);
  ASSERT_EQ(plain.size(), 3u);
  for (const auto& e : plain) EXPECT_EQ(e.kind, ScanKind::kBatch);

  ScanStart full = at(100);
  full.check_records = true;
  auto ev = scan(l.bytes, full, OnFault::kResync);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].kind, ScanKind::kBatch);
  EXPECT_EQ(ev[1].kind, ScanKind::kCorrupt);
  EXPECT_EQ(ev[1].reason, BatchError::kBadRecords);
  EXPECT_EQ(ev[1].first_offset, 102u);
  EXPECT_EQ(ev[1].resume_position, l.pos[2]);
  EXPECT_EQ(ev[2].kind, ScanKind::kBatch);

  auto stop = scan(l.bytes, full, OnFault::kStop);
  ASSERT_EQ(stop.size(), 2u);
  EXPECT_EQ(stop[1].kind, ScanKind::kTornTail);
  EXPECT_EQ(stop[1].reason, BatchError::kBadRecords);
  EXPECT_EQ(stop[1].position, l.pos[1]);
  EXPECT_STREQ(batch_error_name(BatchError::kBadRecords), "records inconsistent with the batch header");
}

// One batch edited into each fault; the scan must name that reason.
TEST(BatchScannerTest, EveryReason) {
  const std::string good = batch(100, 3);
  struct Case {
    const char* name;
    BatchError want;
    std::string bytes;
    ScanStart start;
  };
  std::vector<Case> cases;
  cases.push_back({"fewer than 12 bytes", BatchError::kShortHeader, good.substr(0, 7), at(100)});
  cases.push_back({"fewer than a header", BatchError::kShortHeader, good.substr(0, 30), at(100)});
  cases.push_back({"cut inside the records", BatchError::kShortBatch, good.substr(0, good.size() - 1), at(100)});
  {
    std::string b = good;
    put_u32(u8(b) + kBatchLengthOffset, 10);
    cases.push_back({"length below a header", BatchError::kBadLength, b, at(100)});
    put_u32(u8(b) + kBatchLengthOffset, kMaxBatchBytes + 1);
    cases.push_back({"length above the maximum", BatchError::kBadLength, b, at(100)});
  }
  {
    std::string b = good;
    b[kBatchMagicOffset] = 7;
    cases.push_back({"magic", BatchError::kBadMagic, b, at(100)});
  }
  {
    std::string b = good;
    put_u32(u8(b) + kBatchRecordCountOffset, 0);
    reseal(b);
    cases.push_back({"no records", BatchError::kBadHeader, b, at(100)});
    b = good;
    put_u32(u8(b) + kBatchLastDeltaOffset, 0);  // 3 records cannot end at delta 0
    reseal(b);
    cases.push_back({"last delta below the count", BatchError::kBadHeader, b, at(100)});
  }
  {
    std::string b = good;
    b[kBatchHeaderSize + 1] ^= 1;
    cases.push_back({"record bytes", BatchError::kCrcMismatch, b, at(100)});
    b = good;
    b[kBatchFirstTimestampOffset] ^= 1;
    cases.push_back({"header field", BatchError::kCrcMismatch, b, at(100)});
  }
  {
    ScanStart s = at(100);
    s.next_offset = 200;
    cases.push_back({"base below the expected offset", BatchError::kOffsetBackwards, good, s});
    s = at(100);
    s.next_offset = 99;
    s.exact_first = true;
    cases.push_back({"base differs from the index entry", BatchError::kOffsetMismatch, good, s});
    s = at(100);
    s.next_offset = 0;
    s.segment_base = 101;
    cases.push_back({"base below the segment", BatchError::kOutsideSegment, good, s});
    std::string far = batch((uint64_t{1} << 32) + 100, 1);
    cases.push_back({"offsets beyond 2^32 of the segment", BatchError::kOutsideSegment, far, at(100)});
  }
  std::set<BatchError> seen;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (OnFault f : {OnFault::kStop, OnFault::kResync}) {
      auto ev = scan(c.bytes, c.start, f);
      ASSERT_EQ(ev.size(), 1u);
      EXPECT_EQ(ev[0].kind, ScanKind::kTornTail);
      EXPECT_EQ(ev[0].reason, c.want) << batch_error_name(ev[0].reason);
      EXPECT_EQ(ev[0].position, 0u);
      EXPECT_EQ(ev[0].first_offset, c.start.next_offset);
    }
    seen.insert(c.want);
  }
  // Every fault the enum names is reachable, and each has its own name.
  std::set<std::string> names;
  for (int e = 0; e <= static_cast<int>(BatchError::kOutsideSegment); ++e)
    names.insert(batch_error_name(static_cast<BatchError>(e)));
  EXPECT_EQ(names.size(), static_cast<size_t>(BatchError::kOutsideSegment) + 1);
  EXPECT_EQ(seen.size(), static_cast<size_t>(BatchError::kOutsideSegment));
}

// Anchors for tests: (position, base offset) pairs, as an offset index gives them.
class Anchors final : public BatchAnchors {
 public:
  explicit Anchors(std::vector<BatchAnchor> a) : a_(std::move(a)) {}
  std::optional<BatchAnchor> first_after(uint64_t pos) const override {
    for (const BatchAnchor& x : a_)
      if (x.position > pos) return x;
    return std::nullopt;
  }

 private:
  std::vector<BatchAnchor> a_;
};

ScanStart anchored(const Anchors& a, uint64_t base = 0) {
  ScanStart s = at(base);
  s.anchors = &a;
  return s;
}

TEST(BatchScannerTest, GarbageBetweenBatchesIsACorruptRangeThatLosesNoOffsets) {
  const std::string a = batch(0, 2), b = batch(2, 2);
  const std::string junk(17, '\xee');
  // Garbage has no length to follow: only an anchor proves where b starts.
  const Anchors anchors({{a.size() + junk.size(), 2}});
  auto ev = scan(a + junk + b, anchored(anchors), OnFault::kResync);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[1].kind, ScanKind::kCorrupt);
  EXPECT_EQ(ev[1].position, a.size());
  EXPECT_EQ(ev[1].resume_position, a.size() + junk.size());
  EXPECT_EQ(ev[1].first_offset, 2u);
  EXPECT_EQ(ev[1].resume_header.base_offset, 2u);
  // Without it, b (bytes that look like a batch) is not adopted.
  auto unproven = scan(a + junk + b, at(0), OnFault::kResync);
  ASSERT_EQ(unproven.size(), 2u);
  EXPECT_EQ(unproven[1].kind, ScanKind::kTornTail);
}

TEST(BatchScannerTest, ResyncSkipsBatchesThatGoBackwards) {
  // A valid batch whose offsets go back is no place to resume, even where an
  // anchor claims it.
  const std::string a = batch(0, 3), g = "garbage!", b = batch(1, 1), c = batch(3, 1);
  const Anchors anchors({{a.size() + g.size(), 1}, {a.size() + g.size() + b.size(), 3}});
  auto ev = scan(a + g + b + c, anchored(anchors), OnFault::kResync);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[1].kind, ScanKind::kCorrupt);
  EXPECT_EQ(ev[1].resume_header.base_offset, 3u);
  EXPECT_EQ(ev[2].header.base_offset, 3u);
}

// A damaged batch (any field but its length) is stepped over by its own
// length when the batches after it chain to the next anchor or the end; an
// anchor whose batch is not what it claims is passed over.
TEST(BatchScannerTest, TheDamagedBatchsLengthIsFollowedOnlyWhenWhatFollowsChainsToAProvenBoundary) {
  const std::string a = batch(0, 2), b = batch(2, 3), c = batch(5, 1), d = batch(6, 2);
  const std::string log = a + b + c + d;
  const uint64_t pb = a.size(), pc = pb + b.size(), pd = pc + c.size();
  for (size_t byte = 0; byte < b.size(); ++byte) {
    SCOPED_TRACE("byte " + std::to_string(byte));
    std::string bad = log;
    bad[pb + byte] = static_cast<char>(bad[pb + byte] ^ 0x10);
    const bool length = byte >= 8 && byte < 12;
    // No anchors: the chain from b's length must reach the end exactly.
    auto ev = scan(bad, at(0), OnFault::kResync);
    ASSERT_GE(ev.size(), 2u);
    EXPECT_EQ(ev[1].position, pb);
    if (length) {
      EXPECT_EQ(ev[1].kind, ScanKind::kTornTail);
    } else {
      ASSERT_EQ(ev[1].kind, ScanKind::kCorrupt);
      EXPECT_EQ(ev[1].resume_position, pc);
      EXPECT_EQ(ev[1].resume_header.base_offset, 5u);
    }
    // An anchor at d (and a wrong one before it): a length flip loses b and c.
    const Anchors anchors({{pc + 1, 5}, {pd, 6}});
    ev = scan(bad, anchored(anchors), OnFault::kResync);
    ASSERT_GE(ev.size(), 2u);
    ASSERT_EQ(ev[1].kind, ScanKind::kCorrupt);
    EXPECT_EQ(ev[1].resume_position, length ? pd : pc);
  }
}

// A record whose value holds a well-formed batch (any client can send such
// bytes): whatever byte of the real batch is damaged, the embedded batch is
// never an event, wherever in the value it lies.
TEST(BatchScannerTest, ABatchInsideARecordValueIsNeverAdopted) {
  for (size_t pad : {0u, 1u, 7u, 40u}) {
    const std::string inner = batch(1, 3, 5);
    BatchBuilder ob(1);
    ob.add(test::kBaseTimestampUs, std::nullopt, std::string(pad, 'p') + inner + "tail", {});
    const std::string outer = ob.finish();
    const std::string a = batch(0, 1), c = batch(2, 1);
    const std::string log = a + outer + c;
    const size_t inner_at = log.find(inner);
    ASSERT_NE(inner_at, std::string::npos);
    const Anchors anchors({{a.size() + outer.size(), 2}});
    for (size_t byte = 0; byte < outer.size(); ++byte) {
      for (const bool with_anchor : {false, true}) {
        SCOPED_TRACE("pad " + std::to_string(pad) + ", byte " + std::to_string(byte) +
                     (with_anchor ? ", anchored" : ""));
        std::string bad = log;
        bad[a.size() + byte] = static_cast<char>(bad[a.size() + byte] ^ (1 << (byte % 8)));
        auto ev = scan(bad, with_anchor ? anchored(anchors) : at(0), OnFault::kResync);
        for (const ScanEvent& e : ev) {
          EXPECT_FALSE(e.kind == ScanKind::kBatch && e.position > a.size() && e.position < a.size() + outer.size())
              << "adopted bytes at " << e.position << " (the embedded batch is at " << inner_at << ")";
          EXPECT_FALSE(e.kind == ScanKind::kCorrupt && e.resume_position < a.size() + outer.size());
        }
      }
    }
  }
}

TEST(BatchScannerTest, AReadErrorEndsTheScanAndIsNoTornTail) {
  const Log l = three_batches();
  for (uint64_t call = 1; call <= 6; ++call) {
    SCOPED_TRACE(call);
    CheckedBytes src(l.bytes);
    src.fail_from_call(call);
    BatchScanner sc(src, at(100));
    ScanEvent ev;
    size_t batches = 0;
    while (sc.next(&ev, OnFault::kResync)) {
      EXPECT_EQ(ev.kind, ScanKind::kBatch);
      ++batches;
    }
    EXPECT_EQ(sc.status().code(), ErrorCode::kStorageError);
    EXPECT_LT(batches, 3u);
  }
}

// A log cut at every byte: whole batches, then at most one torn tail at the
// start of the cut batch, with a "short" reason.
TEST(BatchScannerTest, TruncatedAtEveryByte) {
  const Log l = three_batches();
  for (size_t n = 0; n <= l.bytes.size(); ++n) {
    SCOPED_TRACE(n);
    std::optional<uint64_t> zero_tail;
    auto ev = scan(l.bytes.substr(0, n), at(100), OnFault::kResync, nullptr, &zero_tail);
    size_t whole = 0;  // batches that end at or before the cut
    while (whole < l.pos.size() &&
           (whole + 1 < l.pos.size() ? l.pos[whole + 1] : l.bytes.size()) <= n)
      ++whole;
    ASSERT_GE(ev.size(), whole);
    for (size_t i = 0; i < whole; ++i) EXPECT_EQ(ev[i].kind, ScanKind::kBatch);
    const bool cut_inside = whole < l.pos.size() && n > l.pos[whole];
    // A torn batch is never a zero tail, even when what survived of it is
    // only the zero high bytes of its base offset (rule Z needs 43 zeros).
    EXPECT_FALSE(zero_tail.has_value());
    ASSERT_EQ(ev.size(), whole + (cut_inside ? 1 : 0));
    if (cut_inside) {
      EXPECT_EQ(ev.back().kind, ScanKind::kTornTail);
      EXPECT_EQ(ev.back().position, l.pos[whole]);
      EXPECT_TRUE(is_short(ev.back().reason)) << batch_error_name(ev.back().reason);
    }
  }
}

// Random bytes, and valid batches with random damage: the scan ends, reads
// only inside the buffer, and its events tile the bytes in order.
TEST(BatchScannerTest, RandomBytesNeverCrashOrReadOutside) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    RecordGen g(seed);
    std::string bytes;
    uint64_t base = g.uniform(0, 50);
    const size_t parts = g.uniform(0, 6);
    for (size_t i = 0; i < parts; ++i) {
      if (g.chance(30)) {
        bytes += g.bytes(g.uniform(0, 80));
      } else {
        auto recs = g.records(test::kBaseTimestampUs);
        bytes += test::build_batch(recs, base);
        base += recs.size() + g.uniform(0, 2);
      }
    }
    for (size_t k = g.uniform(0, 4); k > 0 && !bytes.empty(); --k)
      bytes[g.uniform(0, bytes.size() - 1)] ^= static_cast<char>(1u << g.uniform(0, 7));
    if (g.chance(30) && !bytes.empty()) bytes.resize(g.uniform(0, bytes.size() - 1));
    for (OnFault f : {OnFault::kResync, OnFault::kStop}) {
      Status st;
      std::optional<uint64_t> zero_tail;
      auto ev = scan(bytes, at(0), f, &st, &zero_tail);
      EXPECT_TRUE(st.is_ok());
      uint64_t pos = 0, next = 0;
      for (size_t i = 0; i < ev.size(); ++i) {
        const ScanEvent& e = ev[i];
        EXPECT_EQ(e.position, pos);
        if (e.kind == ScanKind::kBatch) {
          pos += e.header.total_size();
          EXPECT_LE(pos, bytes.size());
          EXPECT_GE(e.header.base_offset, next);  // offsets never go back
          next = e.header.next_offset();
        } else if (e.kind == ScanKind::kCorrupt) {
          EXPECT_GT(e.resume_position, e.position);
          EXPECT_LT(e.resume_position, bytes.size());
          pos = e.resume_position;
        } else {
          EXPECT_EQ(i + 1, ev.size());  // nothing after a torn tail
          pos = bytes.size();
        }
      }
      if (zero_tail) {  // the rest is zeros (rule Z), where the events end
        EXPECT_EQ(pos, *zero_tail);
        EXPECT_TRUE(all_zero(std::string_view(bytes).substr(*zero_tail)));
        pos = bytes.size();
      }
      EXPECT_EQ(pos, bytes.size());
    }
  }
}

// Rule Z (docs/STORAGE.md, section 2): at least 43 zeros from a batch boundary
// to the end are the end of the data, not a fault; fewer, or zeros followed
// by anything else, are a fault like any other (the first invalid batch); a
// torn batch whose tail is zeros is torn, whatever zeros follow it.
TEST(BatchScannerTest, AZeroTailEndsTheDataAndZerosBeforeDataAreAFault) {
  const Log l = three_batches();
  // A zero header can never be a batch: its length is below a bare header's.
  BatchHeader h;
  const std::string z(kBatchHeaderSize, '\0');
  EXPECT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(z.data()), z.size(), &h), BatchError::kBadLength);
  for (size_t zeros : {size_t{1}, size_t{12}, size_t{42}, size_t{43}, size_t{4096}, size_t{70000}}) {
    SCOPED_TRACE(zeros);
    for (OnFault f : {OnFault::kStop, OnFault::kResync}) {
      std::optional<uint64_t> zero_tail;
      auto ev = scan(l.bytes + std::string(zeros, '\0'), at(100), f, nullptr, &zero_tail);
      if (zeros >= kMinZeroTail) {
        ASSERT_EQ(ev.size(), 3u);
        EXPECT_EQ(zero_tail, l.bytes.size());
      } else {  // as short as a torn batch's first bytes can be
        ASSERT_EQ(ev.size(), 4u);
        EXPECT_EQ(ev[3].kind, ScanKind::kTornTail);
        EXPECT_FALSE(zero_tail.has_value());
      }
      for (size_t i = 0; i < 3; ++i) EXPECT_EQ(ev[i].kind, ScanKind::kBatch);
      // One byte of data after the zeros: they are a fault, not the end.
      ev = scan(l.bytes + std::string(zeros, '\0') + "x", at(100), f, nullptr, &zero_tail);
      ASSERT_EQ(ev.size(), 4u);
      EXPECT_EQ(ev[3].kind, ScanKind::kTornTail);
      EXPECT_EQ(ev[3].position, l.bytes.size());
      EXPECT_FALSE(zero_tail.has_value());
    }
  }
  // The last batch torn: its first half written, the rest still zeros, then
  // more zeros (a torn write into preallocated space).
  const size_t last = l.pos.back();
  const size_t kept = last + (l.bytes.size() - last) / 2;
  std::string torn = l.bytes.substr(0, kept);
  torn.resize(l.bytes.size() + 4096, '\0');
  std::optional<uint64_t> zero_tail;
  auto ev = scan(torn, at(100), OnFault::kStop, nullptr, &zero_tail);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[2].kind, ScanKind::kTornTail);
  EXPECT_EQ(ev[2].position, last);
  EXPECT_NE(ev[2].reason, BatchError::kOk);
  EXPECT_FALSE(zero_tail.has_value());
  MemoryBytes mem(reinterpret_cast<const uint8_t*>(torn.data()), torn.size());
  auto run = BatchScanner::zero_tail_length(mem, last);
  ASSERT_TRUE(run.is_ok());
  EXPECT_GE(*run, torn.size() - kept);  // the zeros after what was written (and any it ended with)
  EXPECT_LT(*run, torn.size() - last);
}

}  // namespace
}  // namespace rustlog
