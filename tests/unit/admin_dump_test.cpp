// The segment walker behind `rustlog dump`: listing, record decoding, and how
// each kind of damage is reported and skipped (torn tail, CRC mismatch,
// garbage between batches, offsets going backwards, malformed records under
// a valid CRC).
#include "admin/dump.h"

#include <gtest/gtest.h>

#include "common/byte_order.h"
#include "common/crc32c.h"
#include "storage/segment.h"
#include "support/temp_dir.h"

namespace rustlog::admin {
namespace {

using test::TempDir;
using test::write_bytes;

constexpr int64_t kT0 = 1'700'000'000'000'000;

std::string make_batch(uint64_t base, int records) {
  BatchBuilder b(base);
  for (int i = 0; i < records; ++i) {
    const uint64_t off = base + static_cast<uint64_t>(i);
    std::optional<std::string> key;
    if (off % 2 == 0) key = "k" + std::to_string(off);
    b.add(kT0 + static_cast<int64_t>(off), key, "v" + std::to_string(off),
          {{"h", std::to_string(off)}});
  }
  return b.finish();
}

struct Built {
  std::string path;
  std::vector<std::string> batches;  // as written
  std::vector<uint64_t> positions;
};

// Batches of 2, 3 and 1 records at offsets 100.., in a segment based at 100.
Built build(const TempDir& dir, const std::string& name = Segment::file_name(100, ".log")) {
  Built b;
  b.path = dir.sub(name);
  uint64_t off = 100, pos = 0;
  std::string all;
  for (int n : {2, 3, 1}) {
    b.batches.push_back(make_batch(off, n));
    b.positions.push_back(pos);
    pos += b.batches.back().size();
    all += b.batches.back();
    off += static_cast<uint64_t>(n);
  }
  write_bytes(b.path, all);
  return b;
}

TEST(AdminDump, ListsEveryBatchAndRecord) {
  TempDir dir;
  Built b = build(dir);
  auto d = dump_segment(b.path, {.records = true});
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_TRUE(d->problems.empty());
  ASSERT_EQ(d->batches.size(), 3u);
  EXPECT_EQ(d->summary.base_offset, 100u);
  EXPECT_EQ(d->summary.batches, 3u);
  EXPECT_EQ(d->summary.records, 6u);
  EXPECT_EQ(d->summary.end_position, d->summary.file_bytes);
  EXPECT_FALSE(d->summary.limited);
  uint64_t off = 100;
  for (size_t i = 0; i < 3; ++i) {
    const DumpedBatch& x = d->batches[i];
    EXPECT_EQ(x.position, b.positions[i]);
    EXPECT_EQ(x.header.base_offset, off);
    EXPECT_EQ(x.header.total_size(), b.batches[i].size());
    EXPECT_TRUE(x.crc_ok);
    EXPECT_EQ(x.computed_crc, x.header.crc);
    EXPECT_TRUE(x.decode_error.empty());
    for (const Record& r : x.records) {
      EXPECT_EQ(r.offset, off);
      EXPECT_EQ(r.timestamp_us, kT0 + static_cast<int64_t>(off));
      EXPECT_EQ(r.key.has_value(), off % 2 == 0);
      EXPECT_EQ(r.value, "v" + std::to_string(off));
      ASSERT_EQ(r.headers.size(), 1u);
      EXPECT_EQ(r.headers[0].value, std::to_string(off));
      ++off;
    }
  }
  EXPECT_EQ(off, 106u);
}

TEST(AdminDump, RecordsOnlyWhenAsked) {
  TempDir dir;
  Built b = build(dir);
  auto d = dump_segment(b.path);
  ASSERT_TRUE(d.is_ok());
  for (const auto& x : d->batches) EXPECT_TRUE(x.records.empty());
  EXPECT_EQ(d->summary.records, 6u);
}

TEST(AdminDump, MaxBatchesStopsAndSaysWhere) {
  TempDir dir;
  Built b = build(dir);
  auto d = dump_segment(b.path, {.max_batches = 2});
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->batches.size(), 2u);
  EXPECT_TRUE(d->summary.limited);
  EXPECT_EQ(d->summary.end_position, b.positions[2]);
}

TEST(AdminDump, TornTailIsReportedWithNothingToResumeAt) {
  TempDir dir;
  Built b = build(dir);
  test::truncate_file(b.path, b.positions[2] + 20);
  auto d = dump_segment(b.path);
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->batches.size(), 2u);
  ASSERT_EQ(d->problems.size(), 1u);
  const DumpProblem& p = d->problems[0];
  EXPECT_EQ(p.position, b.positions[2]);
  EXPECT_EQ(p.first_offset, 105u);
  EXPECT_FALSE(p.resume_position.has_value());
  EXPECT_NE(p.message.find("torn write"), std::string::npos) << p.message;
  EXPECT_NE(p.message.find("offsets from 105 on are unreadable"), std::string::npos) << p.message;
  EXPECT_NE(p.message.find(b.path), std::string::npos);
}

TEST(AdminDump, CrcMismatchListsTheBatchAndNamesTheLostOffsets) {
  TempDir dir;
  Built b = build(dir);
  test::flip_bit(b.path, b.positions[1] + kBatchHeaderSize + 2, 3);
  auto d = dump_segment(b.path, {.records = true});
  ASSERT_TRUE(d.is_ok());
  ASSERT_EQ(d->batches.size(), 3u);
  EXPECT_FALSE(d->batches[1].crc_ok);
  EXPECT_TRUE(d->batches[1].records.empty());
  EXPECT_TRUE(d->batches[2].crc_ok);
  EXPECT_EQ(d->summary.records, 3u);  // the corrupt batch's records do not count
  ASSERT_EQ(d->problems.size(), 1u);
  const DumpProblem& p = d->problems[0];
  EXPECT_EQ(p.position, b.positions[1]);
  EXPECT_EQ(p.resume_position, b.positions[2]);
  EXPECT_EQ(p.first_offset, 102u);
  EXPECT_EQ(p.resume_offset, 105u);
  EXPECT_NE(p.message.find("CRC mismatch"), std::string::npos) << p.message;
  EXPECT_NE(p.message.find("offsets 102..104 are unreadable"), std::string::npos) << p.message;
}

// Garbage holds no length to follow: the segment's offset index proves where
// the next batch starts (without it, nothing after the garbage is adopted).
TEST(AdminDump, GarbageBetweenBatchesLosesNoOffsets) {
  TempDir dir;
  Built b = build(dir);
  const std::string junk(10, '\xee');
  write_bytes(b.path, b.batches[0] + junk + b.batches[1] + b.batches[2]);
  std::string index;
  OffsetIndex::serialize_entry(2, static_cast<uint32_t>(b.batches[0].size() + junk.size()), index);
  const std::string index_path = b.path.substr(0, b.path.size() - 4) + ".index";
  auto unproven = dump_segment(b.path);
  ASSERT_TRUE(unproven.is_ok());
  EXPECT_EQ(unproven->batches.size(), 1u);
  ASSERT_EQ(unproven->problems.size(), 1u);
  EXPECT_NE(unproven->problems[0].message.find("offsets from 102 on are unreadable"), std::string::npos)
      << unproven->problems[0].message;
  write_bytes(index_path, index);
  auto d = dump_segment(b.path);
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->batches.size(), 3u);
  ASSERT_EQ(d->problems.size(), 1u);
  EXPECT_EQ(d->problems[0].position, b.batches[0].size());
  EXPECT_EQ(d->problems[0].resume_position, b.batches[0].size() + junk.size());
  EXPECT_NE(d->problems[0].message.find("no offsets are missing"), std::string::npos)
      << d->problems[0].message;
}

TEST(AdminDump, OffsetsGoingBackwardsAreAProblem) {
  TempDir dir;
  const std::string path = dir.sub(Segment::file_name(0, ".log"));
  write_bytes(path, make_batch(0, 3) + make_batch(1, 2) + make_batch(3, 1));
  auto d = dump_segment(path);
  ASSERT_TRUE(d.is_ok());
  ASSERT_EQ(d->problems.size(), 1u);
  EXPECT_NE(d->problems[0].message.find("goes backwards"), std::string::npos)
      << d->problems[0].message;
  ASSERT_EQ(d->batches.size(), 2u);
  EXPECT_EQ(d->batches[1].header.base_offset, 3u);
}

TEST(AdminDump, MalformedRecordsUnderAValidCrcAreReportedAndTheWalkGoesOn) {
  TempDir dir;
  const std::string path = dir.sub(Segment::file_name(0, ".log"));
  std::string bad = make_batch(0, 2);
  // The first record's attributes byte (after its 1-byte length varint) must be 0.
  bad[kBatchHeaderSize + 1] = 1;
  auto* p = reinterpret_cast<uint8_t*>(bad.data());
  put_u32(p + kBatchCrcOffset, compute_batch_crc(p, bad.size()));
  write_bytes(path, bad + make_batch(2, 1));
  auto d = dump_segment(path, {.records = true});
  ASSERT_TRUE(d.is_ok());
  ASSERT_EQ(d->batches.size(), 2u);
  EXPECT_TRUE(d->batches[0].crc_ok);
  EXPECT_NE(d->batches[0].decode_error.find("bad record attributes"), std::string::npos);
  EXPECT_TRUE(d->batches[0].records.empty());
  EXPECT_EQ(d->batches[1].records.size(), 1u);
  ASSERT_EQ(d->problems.size(), 1u);
  EXPECT_NE(d->problems[0].message.find("bad record attributes"), std::string::npos);
}

TEST(AdminDump, EmptyFileAndOtherNames) {
  TempDir dir;
  write_bytes(dir.sub("empty.log"), "");
  auto d = dump_segment(dir.sub("empty.log"));
  ASSERT_TRUE(d.is_ok());
  EXPECT_TRUE(d->batches.empty());
  EXPECT_TRUE(d->problems.empty());
  EXPECT_FALSE(d->summary.base_offset.has_value());

  Built b = build(dir, "copy.bin");  // no base offset from the name: 0 is assumed
  auto c = dump_segment(b.path);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->batches.size(), 3u);
  EXPECT_TRUE(c->problems.empty());
}

TEST(AdminDump, UnreadableFileIsAnError) {
  TempDir dir;
  auto missing = dump_segment(dir.sub("nope.log"));
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("nope.log"), std::string::npos);
  auto directory = dump_segment(dir.path());
  ASSERT_FALSE(directory.is_ok());
  EXPECT_NE(directory.status().message().find("not a regular file"), std::string::npos);
}

// The annotated example in docs/STORAGE.md, section 3: BatchBuilder writes
// exactly these bytes, and the dump decodes them back.
TEST(AdminDump, DecodesTheExampleBatchInStorageMd) {
  const std::string doc_hex =
      "00000000 0000002a 00000037 01 5ec88782 0000 00000001 00060a24181e4000 00060a24181e4001 "
      "00000002 10 000000 026b 0a68656c6c6f 0101680131 06 000201 01 00 00";
  std::string expected;
  for (size_t i = 0; i < doc_hex.size();) {
    if (doc_hex[i] == ' ') {
      ++i;
      continue;
    }
    expected.push_back(static_cast<char>(std::stoi(doc_hex.substr(i, 2), nullptr, 16)));
    i += 2;
  }
  BatchBuilder b;  // built at base 0, as a producer would
  b.add(1'700'000'000'000'000, std::string("k"), std::string("hello"), {{"h", "1"}});
  b.add(1'700'000'000'000'001, std::nullopt, std::string(), {});
  std::string bytes = b.finish();
  assign_base_offset(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size(), 42);  // as append does
  ASSERT_EQ(bytes.size(), 67u);
  EXPECT_EQ(bytes, expected);

  TempDir dir;
  const std::string path = dir.sub(Segment::file_name(42, ".log"));
  write_bytes(path, expected);
  auto d = dump_segment(path, {.records = true});
  ASSERT_TRUE(d.is_ok());
  ASSERT_EQ(d->batches.size(), 1u);
  EXPECT_TRUE(d->problems.empty());
  const DumpedBatch& x = d->batches[0];
  EXPECT_EQ(x.header.crc, 0x5ec88782u);
  EXPECT_TRUE(x.crc_ok);
  ASSERT_EQ(x.records.size(), 2u);
  EXPECT_EQ(x.records[0].offset, 42u);
  EXPECT_EQ(x.records[0].key, "k");
  EXPECT_EQ(x.records[0].value, "hello");
  EXPECT_EQ(x.records[0].headers, (std::vector<RecordHeader>{{"h", "1"}}));
  EXPECT_EQ(x.records[1].offset, 43u);
  EXPECT_EQ(x.records[1].timestamp_us, 1'700'000'000'000'001);
  EXPECT_FALSE(x.records[1].key.has_value());
  EXPECT_EQ(x.records[1].value, "");
}

TEST(AdminDump, NeverWritesTheFile) {
  TempDir dir;
  Built b = build(dir);
  test::truncate_file(b.path, b.positions[2] + 7);
  const std::string before = test::read_bytes(b.path);
  ASSERT_TRUE(dump_segment(b.path, {.records = true}).is_ok());
  EXPECT_EQ(test::read_bytes(b.path), before);
}

}  // namespace
}  // namespace rustlog::admin
