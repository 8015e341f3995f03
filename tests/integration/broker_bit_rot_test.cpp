// End to end: damage a real broker's files between two runs (one flipped
// bit in an index entry, or in a batch whose record value holds a well-formed
// batch of its own) and check what clients get: every acknowledged record
// that is intact, through Fetch, FetchEx and ListOffsets; a clear error for
// the damaged range; never bytes that were not a batch of this log.
#include <gtest/gtest.h>

#include <filesystem>
#include <variant>
#include <string>
#include <vector>

#include "admin/verify.h"
#include "storage/record_batch.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/temp_dir.h"

namespace rustlog::test {
namespace {

using namespace protocol;

constexpr int64_t kTs0 = 1'700'000'000'000'000;

std::string value_of(uint64_t i) { return "value-" + std::to_string(i) + std::string(40, 'v'); }

// `n` records, one ProduceEx each, record i with timestamp kTs0 + 10 i.
void produce(client::Connection& c, const std::string& topic, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    ProduceExRequest req{topic, 0, kTs0 + static_cast<int64_t>(i) * 10, {}};
    req.records.push_back(ProducerRecord{.key = "k", .value = value_of(i)});
    auto r = call<ProduceExResponse>(c, req);
    ASSERT_EQ(r.base_offset, i);
  }
}

std::string segment_file(const BrokerProcess& b, const std::string& topic, const char* ext) {
  return b.data_dir() + "/" + topic + "-0/00000000000000000000" + ext;
}

void expect_fetches_serve_everything(client::Connection& c, const std::string& topic, uint64_t n) {
  for (uint64_t o = 0; o < n; ++o) {
    SCOPED_TRACE("offset " + std::to_string(o));
    auto fx = call<FetchExResponse>(c, FetchExRequest{topic, 0, o, 1, 0, 0});
    ASSERT_FALSE(fx.records.empty());
    EXPECT_EQ(fx.records[0].offset, o);
    EXPECT_EQ(fx.records[0].value, value_of(o));
    auto f = call<FetchResponse>(c, FetchRequest{"", topic, 0, o, 1});
    ASSERT_FALSE(f.records.empty());
    EXPECT_EQ(f.records[0], value_of(o));
  }
}

void expect_list_offsets_finds_everything(client::Connection& c, const std::string& topic, uint64_t n) {
  for (uint64_t o = 0; o < n; ++o) {
    SCOPED_TRACE("timestamp of offset " + std::to_string(o));
    for (int64_t before : {0, 5}) {
      auto lo = call<ListOffsetsResponse>(
          c, ListOffsetsRequest{topic, 0, kTs0 + static_cast<int64_t>(o) * 10 - before});
      EXPECT_TRUE(lo.found);
      EXPECT_EQ(lo.offset, o);
    }
  }
}

// A flipped bit in the position of a middle `.index` entry and in the
// timestamp of a middle `.timeindex` entry (both pass the checks at start):
// no offset answers 502, ListOffsets by time finds every record, and the
// index files are rebuilt from the log when first used.
TEST(BrokerBitRotTest, DamagedIndexEntriesAreRebuiltWhenUsedAndNoRecordIsHidden) {
  constexpr uint64_t kRecords = 60;
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  std::string index, tindex;
  {
    auto c = broker.connect();
    call<CreateTopicExResponse>(c, CreateTopicExRequest{"t", 1, {{"index.interval.bytes", "256"}}});
    produce(c, "t", kRecords);
    expect_fetches_serve_everything(c, "t", kRecords);
    expect_list_offsets_finds_everything(c, "t", kRecords);
  }
  ASSERT_EQ(broker.stop(), 0);
  index = read_bytes(segment_file(broker, "t", ".index"));
  tindex = read_bytes(segment_file(broker, "t", ".timeindex"));
  const size_t entries = index.size() / 8;
  ASSERT_GE(entries, 6u);
  ASSERT_EQ(tindex.size() / 12, entries);
  // Position +-4 of entry entries/2, then timestamp +-8 of time entry
  // entries/3: each stays increasing, so the file passes as sound at start.
  // Fetches use the offset index, ListOffsets by time the time index first.
  flip_bit(segment_file(broker, "t", ".index"), (entries / 2) * 8 + 7, 2);
  ASSERT_TRUE(broker.start());
  {
    auto c = broker.connect();
    expect_fetches_serve_everything(c, "t", kRecords);
    expect_list_offsets_finds_everything(c, "t", kRecords);
  }
  ASSERT_EQ(broker.stop(), 0);
  EXPECT_EQ(read_bytes(segment_file(broker, "t", ".index")), index);
  flip_bit(segment_file(broker, "t", ".timeindex"), (entries / 3) * 12 + 7, 3);
  ASSERT_TRUE(broker.start());
  {
    auto c = broker.connect();
    expect_list_offsets_finds_everything(c, "t", kRecords);
    expect_fetches_serve_everything(c, "t", kRecords);
  }
  ASSERT_EQ(broker.stop(), 0);
  EXPECT_EQ(read_bytes(segment_file(broker, "t", ".timeindex")), tindex);
  EXPECT_EQ(read_bytes(segment_file(broker, "t", ".index")), index);
  for (const std::string& line : {std::string("entry for offset"), std::string("time index entry")})
    EXPECT_TRUE(has_substr(broker.log(), line));
}

// The reported case: record 10's value is a well-formed batch claiming
// offsets 10..12 (any client can send such bytes). One flipped bit in the
// real batch (its CRC, a byte of the value before the embedded batch, one
// inside it): Fetch and FetchEx of offset 10 answer 502 naming 10..10, every
// other offset answers its own record, the embedded records are never
// served, and `rustlog verify` names the same range.
TEST(BrokerBitRotTest, AnEmbeddedBatchInARecordValueIsNeverServedAfterBitRot) {
  constexpr uint64_t kRecords = 20;
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  BatchBuilder inner(10);
  for (int k = 0; k < 3; ++k) inner.add(kTs0, std::nullopt, std::string("EMBEDDED"), {});
  const std::string embedded = "pre" + inner.finish() + "post";
  auto value = [&](uint64_t i) { return i == 10 ? embedded : value_of(i); };
  {
    auto c = broker.connect();
    call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1});
    for (uint64_t i = 0; i < kRecords; ++i) {
      ProduceExRequest req{"t", 0, kTs0, {ProducerRecord{.value = value(i)}}};
      ASSERT_EQ(call<ProduceExResponse>(c, req).base_offset, i);
    }
  }
  ASSERT_EQ(broker.stop(), 0);
  const std::string log = segment_file(broker, "t", ".log");
  const std::string clean = read_bytes(log);
  uint64_t pos = 0;  // where batch 10 starts
  for (uint64_t i = 0; i < 10; ++i) {
    BatchHeader h;
    ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(clean.data()) + pos, clean.size() - pos, &h),
              BatchError::kOk);
    pos += h.total_size();
  }
  const uint64_t inner_at = clean.find(embedded) + 3;
  for (uint64_t at : {pos + kBatchCrcOffset, inner_at - 2, inner_at + 20}) {
    SCOPED_TRACE("flipped byte " + std::to_string(at));
    write_bytes(log, clean);
    flip_bit(log, at, 3);
    ASSERT_TRUE(broker.start());
    {
      auto c = broker.connect();
      for (uint64_t o = 0; o < kRecords; ++o) {
        SCOPED_TRACE("offset " + std::to_string(o));
        auto fx = c.call(FetchExRequest{"t", 0, o, 1 << 20, 0, 0});
        ASSERT_TRUE(fx.is_ok()) << fx.status().to_string();
        auto f = c.call(FetchRequest{"", "t", 0, o, 1 << 20});
        ASSERT_TRUE(f.is_ok()) << f.status().to_string();
        if (o == 10) {
          // FetchEx answers the extended code; the v0 Fetch, on a connection
          // without Handshake, the v0 code for a storage error while fetching.
          for (auto* r : {&*fx, &*f}) {
            const ErrorCode want = r == &*fx ? ErrorCode::kCorruptRecord : v0(protocol::V0Code::kStorageError);
            auto e = as<ErrorResponse>(std::move(*r));
            EXPECT_EQ(e.code, want);
            EXPECT_TRUE(has_substr(e.message, "offsets 10..10 are unreadable; offsets from 11 on can still be read"));
          }
          continue;
        }
        auto ex = as<FetchExResponse>(std::move(*fx));
        ASSERT_FALSE(ex.records.empty());
        EXPECT_EQ(ex.records[0].offset, o);
        for (const Record& r : ex.records) {
          EXPECT_NE(r.value, std::optional<std::string>("EMBEDDED"));
          EXPECT_EQ(r.value, value(r.offset));
        }
        auto v0 = as<FetchResponse>(std::move(*f));
        ASSERT_FALSE(v0.records.empty());
        for (size_t k = 0; k < v0.records.size(); ++k) EXPECT_EQ(v0.records[k], value(o + k));
      }
    }
    ASSERT_EQ(broker.stop(), 0);
    auto report = admin::verify_data_dir(broker.data_dir());
    ASSERT_TRUE(report.is_ok()) << report.status().to_string();
    std::string problems;
    for (const auto& p : report->partitions)
      for (const auto& line : p.all_problems()) problems += line + "\n";
    EXPECT_TRUE(has_substr(problems, "offsets 10..10 are unreadable; offsets from 11 on can still be read"));
  }
}

// The medium changes under a running broker after the broker checked the
// batch once (it appended it and served it): FetchEx and the v0 Fetch
// re-encode records, so their answers carry no CRC a client could check;
// the flipped record is a CorruptRecord answer, never data.
TEST(BrokerBitRotTest, AFlipUnderARunningBrokerAfterItsFirstCheckIsNeverServedAsData) {
  constexpr uint64_t kRecords = 20;
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1});
  produce(c, "t", kRecords);
  expect_fetches_serve_everything(c, "t", kRecords);  // every batch checked and remembered
  const std::string log = segment_file(broker, "t", ".log");
  const std::string bytes = read_bytes(log);
  const uint64_t at = bytes.find(value_of(10));
  ASSERT_NE(at, std::string::npos);
  flip_bit(log, at + 3, 1);  // inside record 10's value: the length fields stay intact
  auto fx = c.call(FetchExRequest{"t", 0, 10, 1 << 20, 0, 0});
  ASSERT_TRUE(fx.is_ok()) << fx.status().to_string();
  if (std::holds_alternative<FetchExResponse>(*fx)) {
    for (const Record& r : std::get<FetchExResponse>(*fx).records)
      EXPECT_EQ(r.value, value_of(r.offset)) << "a flipped record served as data at offset " << r.offset;
    ADD_FAILURE() << "FetchEx answered records for a batch whose CRC no longer matches";
  } else {
    EXPECT_EQ(as<ErrorResponse>(std::move(*fx)).code, ErrorCode::kCorruptRecord);
  }
  auto f = c.call(FetchRequest{"", "t", 0, 10, 1 << 20});
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  if (std::holds_alternative<FetchResponse>(*f)) {
    ADD_FAILURE() << "the v0 Fetch answered records for a batch whose CRC no longer matches";
  } else {
    EXPECT_EQ(as<ErrorResponse>(std::move(*f)).code, v0(protocol::V0Code::kStorageError));
  }
  for (uint64_t o = 11; o < kRecords; ++o) {  // the others are still served
    auto ok = call<FetchExResponse>(c, FetchExRequest{"t", 0, o, 1 << 20, 0, 0});
    ASSERT_FALSE(ok.records.empty());
    for (const Record& r : ok.records) EXPECT_EQ(r.value, value_of(r.offset));
  }
}

}  // namespace
}  // namespace rustlog::test
