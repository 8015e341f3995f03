// The byte layout of topics.log (topics/metadata_log_format.h): records
// round-trip; a tail cut at every byte, or zero-filled, is a torn tail that
// keeps every whole record before it; a damaged last record is torn, a
// damaged record with records after it is corruption.
#include "topics/metadata_log_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/byte_order.h"

namespace rustlog {
namespace {

std::vector<MetadataRecord> sample() {
  return {{MetadataRecord::Type::kSet, "orders", R"({"partitions":3,"segment.bytes":"1048576"})"},
          {MetadataRecord::Type::kSet, std::string(249, 'n'), R"({"partitions":1})"},
          {MetadataRecord::Type::kDelete, "orders", ""}};
}

std::string log_of(const std::vector<MetadataRecord>& records, uint64_t generation = 7) {
  std::string out = encode_metadata_log_header(generation);
  for (const auto& r : records) out += encode_metadata_record(r);
  return out;
}

TEST(MetadataLogFormatTest, RecordsRoundTripWithTheHeadersGeneration) {
  const std::string bytes = log_of(sample());
  ASSERT_EQ(bytes.substr(0, 8), "RLTOPICS");
  EXPECT_EQ(get_u64(reinterpret_cast<const uint8_t*>(bytes.data()) + 8), 7u);
  auto scan = scan_metadata_log(bytes);
  ASSERT_TRUE(scan.is_ok()) << scan.status().to_string();
  EXPECT_EQ(scan->generation, 7u);
  EXPECT_EQ(scan->records, sample());
  EXPECT_EQ(scan->valid_end, bytes.size());
  EXPECT_EQ(scan->torn_bytes, 0u);
  // Golden bytes of a delete record: length 9, CRC, type 2, name "orders".
  const std::string del = encode_metadata_record({MetadataRecord::Type::kDelete, "orders", ""});
  ASSERT_EQ(del.size(), 17u);
  EXPECT_EQ(get_u32(reinterpret_cast<const uint8_t*>(del.data())), 9u);
  EXPECT_EQ(del.substr(8), std::string("\x02\x00\x06orders", 9));
}

TEST(MetadataLogFormatTest, ATailCutAtEveryByteKeepsTheWholeRecordsBeforeIt) {
  const auto records = sample();
  const std::string whole = log_of(records);
  std::vector<size_t> ends{kMetadataLogHeaderBytes};
  for (const auto& r : records) ends.push_back(ends.back() + encode_metadata_record(r).size());
  for (size_t cut = kMetadataLogHeaderBytes; cut <= whole.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    auto scan = scan_metadata_log(std::string_view(whole).substr(0, cut));
    ASSERT_TRUE(scan.is_ok()) << scan.status().to_string();
    size_t whole_records = 0;
    while (whole_records + 1 < ends.size() && ends[whole_records + 1] <= cut) ++whole_records;
    EXPECT_EQ(scan->records.size(), whole_records);
    EXPECT_EQ(scan->valid_end, ends[whole_records]);
    EXPECT_EQ(scan->torn_bytes, cut - ends[whole_records]);
  }
}

TEST(MetadataLogFormatTest, AZeroFilledTailIsTorn) {
  const std::string bytes = log_of(sample()) + std::string(4096, '\0');
  auto scan = scan_metadata_log(bytes);
  ASSERT_TRUE(scan.is_ok()) << scan.status().to_string();
  EXPECT_EQ(scan->records.size(), 3u);
  EXPECT_EQ(scan->torn_bytes, 4096u);
}

TEST(MetadataLogFormatTest, ADamagedLastRecordIsTornAnEarlierOneIsCorruption) {
  const auto records = sample();
  const std::string whole = log_of(records);
  const size_t first = kMetadataLogHeaderBytes;
  const size_t last = whole.size() - encode_metadata_record(records.back()).size();
  // Every byte after the length field of the last record: torn, two kept.
  for (size_t at = last + 4; at < whole.size(); ++at) {
    std::string bytes = whole;
    bytes[at] ^= 0x10;
    auto scan = scan_metadata_log(bytes);
    ASSERT_TRUE(scan.is_ok()) << at << ": " << scan.status().to_string();
    EXPECT_EQ(scan->records.size(), 2u) << at;
    EXPECT_EQ(scan->valid_end, last) << at;
  }
  // Every byte of the first record: refused, naming the position.
  for (size_t at = first; at < first + encode_metadata_record(records[0]).size(); ++at) {
    std::string bytes = whole;
    bytes[at] ^= 0x10;
    auto scan = scan_metadata_log(bytes);
    if (scan.is_ok()) {
      // A flipped length that now reaches past the end reads as a cut record.
      EXPECT_LT(at, first + 4) << "byte " << at << " was not noticed";
      EXPECT_TRUE(scan->records.empty());
      continue;
    }
    EXPECT_EQ(scan.status().code(), ErrorCode::kStorageError);
    EXPECT_NE(scan.status().message().find("corrupt record at byte " + std::to_string(first)), std::string::npos)
        << scan.status().message();
  }
}

TEST(MetadataLogFormatTest, AMissingOrForeignHeaderIsRefused) {
  EXPECT_FALSE(scan_metadata_log("").is_ok());
  EXPECT_FALSE(scan_metadata_log("RLTOPIC").is_ok());
  EXPECT_FALSE(scan_metadata_log(std::string("{\"topics\":{}}    ")).is_ok());
  auto empty = scan_metadata_log(encode_metadata_log_header(0));
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->records.empty());
}

}  // namespace
}  // namespace rustlog
