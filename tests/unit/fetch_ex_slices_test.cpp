// FetchEx read a slice per event-loop turn (src/broker/broker_fetch_ex.cpp)
// against the answer it replaces: one read of max_bytes, decoded and encoded
// whole. Over a compacted log of many segments (gaps where records were
// cleaned away, tombstones, headers, batches smaller and larger than a
// slice, then an uncleaned tail), every sliced answer is byte for byte the
// whole one. And through the Dispatcher: other connections are served
// between two slices, and a long poll woken with a large answer is read in
// slices too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/log_cleaner.h"
#include "storage/record_batch.h"
#include "support/dispatcher_harness.h"

namespace rustlog {
namespace {

using namespace protocol;

int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The answer as the broker built it before FetchEx was sliced: one read of
// max_bytes (capped at a quarter of the frame), every record at or after the
// offset decoded, encoded whole; the first batch alone if that is too large.
std::string whole_answer(PartitionLog& log, const FetchExRequest& r, uint32_t max_frame) {
  const uint64_t end = log.high_watermark();  // flush = never: everything appended is visible
  auto read = [&](uint32_t max_bytes) {
    auto rr = log.read(r.offset, ReadLimits{.max_bytes = max_bytes == 0 ? 1 : max_bytes, .max_offset = end});
    EXPECT_TRUE(rr.is_ok()) << rr.status().to_string();
    return rr.is_ok() ? *rr : ReadResult{};
  };
  ReadResult rr = read(std::min(r.max_bytes, max_frame / 4));
  FetchExResponse resp;
  EXPECT_TRUE(decode_batches(rr.data, r.offset, &resp.records).is_ok());
  std::string out;
  if (!encode_response(resp, out, max_frame).is_ok()) {
    rr = read(1);
    resp.records.clear();
    EXPECT_TRUE(decode_batches(rr.data, r.offset, &resp.records).is_ok());
    out.clear();
  }
  resp.high_watermark = end;
  resp.log_start_offset = rr.log_start_offset;
  resp.next_offset = rr.data.empty() ? r.offset : std::max(r.offset, rr.next_offset);
  out.clear();
  EXPECT_TRUE(encode_response(resp, out, max_frame).is_ok());
  return out;
}

// The frame Broker::handle answers (a FetchEx or a v0 Fetch), reading its
// slices to the end: the bytes that leave, its own with the values sent
// from segment mappings spliced in (*spliced counts those).
std::string sliced_answer(Broker& b, const Request& r, int* slices, size_t* spliced = nullptr) {
  std::string req;
  EXPECT_TRUE(encode_request(r, req).is_ok());
  Outcome o = b.handle(std::string_view(req).substr(kFrameHeaderBytes), wall_now_us());
  *slices = 1;
  auto leave = [&](const std::string& own, const Splices& sp) {
    if (spliced) *spliced = spliced_bytes(sp);
    return flatten(own, sp);
  };
  if (auto* ready = std::get_if<outcome::Ready>(&o)) return leave(ready->frame, ready->splices);
  auto* s = std::get_if<outcome::FetchSlices>(&o);
  EXPECT_NE(s, nullptr);
  if (!s) return "";
  while (true) {
    ++*slices;
    if (auto frame = b.continue_fetch(*s->state)) return leave(*frame, s->state->splices);
    EXPECT_LT(*slices, 1000);
  }
}

TEST(FetchExSlicesTest, ASlicedAnswerIsByteIdenticalToOneWholeRead) {
  Harness h("never");
  Broker& b = h.broker();
  h.send(99, CreateTopicExRequest{"t",
                                  1,
                                  {{"cleanup.policy", "compact"},
                                   {"segment.bytes", "262144"},
                                   {"min.cleanable.dirty.ratio", "0"},
                                   {"delete.retention.ms", "0"}}});
  h.turn();
  h.settle();
  ASSERT_EQ(h.answers(99).size(), 1u);

  std::mt19937_64 rng(20261202);
  auto uniform = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  uint64_t next = 0;
  auto produce = [&](int batches) {
    for (int k = 0; k < batches; ++k) {
      ProduceExRequest req{"t", 0, kBrokerTimestamp, {}};
      // Mostly small batches; every seventh one larger than a 64 KiB slice.
      const bool large = k % 7 == 6;
      const uint64_t n = large ? uniform(40, 80) : uniform(1, 20);
      for (uint64_t i = 0; i < n; ++i) {
        ProducerRecord r;
        r.timestamp_us = kBrokerTimestamp;
        r.key = "k" + std::to_string(uniform(0, 60));
        if (uniform(0, 9) > 0)  // else a tombstone
          r.value = std::string(large ? uniform(1500, 2500) : uniform(0, 1200), static_cast<char>('a' + (next + i) % 26));
        if (uniform(0, 3) == 0) r.headers.push_back({"h" + std::to_string(i), std::string(uniform(0, 40), 'h')});
        req.records.push_back(std::move(r));
      }
      h.send(1, req);
      h.turn();
      auto a = h.answers(1);
      ASSERT_EQ(a.size(), 1u);
      ASSERT_EQ(as<ProduceExResponse>(a[0]).base_offset, next);
      next += n;
    }
  };
  produce(120);
  PartitionLog* log = b.log_for("t", 0);
  ASSERT_NE(log, nullptr);
  {  // clean what is there (twice: the second pass removes the tombstones)
    LogCleaner cleaner;
    ASSERT_TRUE(cleaner.add_log("t-0", log).is_ok());
    ASSERT_GE(cleaner.run_until_idle(wall_now_us() + 3600ll * 1000 * 1000), 1u);
    cleaner.run_until_idle(wall_now_us() + 7200ll * 1000 * 1000);
    ASSERT_GT(cleaner.counters().records_removed, 100u);
    cleaner.remove_log("t-0");
    ASSERT_TRUE(log->purge_deleted().is_ok());
  }
  produce(40);  // an uncleaned tail after the cleaned part
  ASSERT_GE(log->segment_count(), 8u) << "the log should span many segments";
  std::set<uint64_t> present;  // offsets that still hold a record
  for (uint64_t off = 0; off < next;) {
    auto r = log->read(off, ReadLimits{.max_bytes = 1 << 20});
    ASSERT_TRUE(r.is_ok());
    std::vector<Record> recs;
    ASSERT_TRUE(decode_batches(r->data, off, &recs).is_ok());
    for (const auto& rec : recs) present.insert(rec.offset);
    ASSERT_GT(r->next_offset, off);
    off = r->next_offset;
  }
  ASSERT_LT(present.size(), next * 3 / 4) << "compaction should have left gaps";

  const uint32_t max_frame = h.cfg().max_frame_bytes;
  int multi_slice = 0, in_gap = 0;
  for (int k = 0; k < 300; ++k) {
    const uint64_t offset = k == 0 ? next : uniform(0, next);
    const auto max_bytes =
        k % 2 ? static_cast<uint32_t>(std::exp(std::uniform_real_distribution<double>(0, std::log(3e6))(rng)))
              : static_cast<uint32_t>(uniform(64 * 1024, 3 << 20));
    SCOPED_TRACE("fetch " + std::to_string(k) + ": offset " + std::to_string(offset) + ", max_bytes " +
                 std::to_string(max_bytes));
    const FetchExRequest req{"t", 0, offset, max_bytes, 0, 0};
    int slices = 0;
    const std::string got = sliced_answer(b, req, &slices);
    const std::string want = whole_answer(*log, req, max_frame);
    ASSERT_EQ(got.size(), want.size());
    ASSERT_TRUE(got == want) << "same size, different bytes";
    if (slices > 2) ++multi_slice;
    if (offset < next && !present.count(offset)) ++in_gap;
  }
  EXPECT_GE(multi_slice, 100) << "too few answers spanned several slices to test the slicing";
  EXPECT_GE(in_gap, 50) << "too few fetches started inside a compaction gap";
}

TEST(FetchExSlicesTest, OthersAreServedBetweenTwoSlices) {
  Harness h("never");
  h.create("t");
  h.fill(1, "t", 32, 16 * 1024);
  h.send(1, FetchExRequest{"t", 0, 0, 1 << 20, 0, 0});
  h.send(1, FetchExRequest{"t", 0, 0, 1 << 20, 0, 0});
  h.send(2, PingRequest{});
  h.turn();
  EXPECT_TRUE(h.answers(1).empty());
  EXPECT_EQ(h.answers(2).size(), 1u);  // served between two slices
  int turns = 1;
  std::vector<Response> a;
  while (a.size() < 2 && turns < 100) {
    h.turn();
    ++turns;
    for (auto& r : h.answers(1)) a.push_back(std::move(r));
  }
  ASSERT_EQ(a.size(), 2u);
  for (const Response& r : a) {
    const auto& f = as<FetchExResponse>(r);
    ASSERT_EQ(f.records.size(), 32u);
    for (size_t i = 0; i < f.records.size(); ++i) EXPECT_EQ(f.records[i].offset, i);
    EXPECT_EQ(f.next_offset, 32u);
  }
  // Only the first unfinished fetch of a connection moves in a turn: the
  // two answers took (at least) twice the slices of one.
  EXPECT_GT(turns, 8);
}

// Large fetches on several connections at once: a turn's slices read at
// most Dispatcher::kTurnSliceBytes over all of them, the connections take
// turns at being first, and every answer is whole.
TEST(FetchExSlicesTest, ATurnsSlicesReadAtMostTheTurnBudgetOverAllConnections) {
  Harness h("never");
  h.create("t");
  h.fill(1, "t", 64, 16 * 1024);  // 1 MiB: four records per 64 KiB slice
  constexpr uint64_t kFirst = 10, kConns = 6;
  for (uint64_t id = kFirst; id < kFirst + kConns; ++id) h.send(id, FetchExRequest{"t", 0, 0, 2 << 20, 0, 0});
  h.turn();  // each reads its first slice as it is handled
  // A 16 KiB record's batch is a little more than 16 KiB: three to a slice,
  // four slices to a turn; 22 slices to an answer, 21 after the first.
  const uint64_t per_turn = Dispatcher::kTurnSliceBytes / Broker::kFetchSliceBytes;
  std::map<uint64_t, int> done_at;
  for (int turn = 1; done_at.size() < kConns && turn < 1000; ++turn) {
    const uint64_t before = h.broker().metrics().fetch_slices.value();
    h.turn();
    const uint64_t slices = h.broker().metrics().fetch_slices.value() - before;
    size_t finished = 0;
    for (uint64_t id = kFirst; id < kFirst + kConns; ++id)
      for (const Response& r : h.answers(id)) {
        const auto& f = as<FetchExResponse>(r);
        ASSERT_EQ(f.records.size(), 64u);
        for (size_t i = 0; i < f.records.size(); ++i) ASSERT_EQ(f.records[i].offset, i);
        done_at[id] = turn;
        ++finished;
      }
    // (The last slices read one batch each: the turn that ends the answers
    // may read more of them.)
    if (finished == 0) {
      EXPECT_LE(slices, per_turn) << "turn " << turn;
    }
  }
  ASSERT_EQ(done_at.size(), kConns);
  int first = 1000, last = 0;
  for (const auto& [id, t] : done_at) {
    first = std::min(first, t);
    last = std::max(last, t);
  }
  // 126 slices at four a turn take 31 turns (at one per connection, 21).
  EXPECT_GE(first, 30);
  // Taking turns: a fixed order would finish four connections well before
  // the other two.
  EXPECT_LE(last - first, 1);
}

TEST(FetchExSlicesTest, ALongPollWokenWithALargeAnswerIsReadInSlices) {
  Harness h("never");
  h.create("t");
  h.send(1, FetchExRequest{"t", 0, 0, 1 << 20, 60000, 1});
  h.turn();
  EXPECT_TRUE(h.answers(1).empty());  // parked
  const std::string value(16 * 1024, 'w');
  for (int i = 0; i < 32; ++i) h.send(2, ProduceRequest{"t", 0, {value}});
  h.turn();  // the appends wake the poll: its first slice is read
  EXPECT_EQ(h.answers(2).size(), 32u);
  EXPECT_TRUE(h.answers(1).empty()) << "a 512 KiB answer should take more than one slice";
  EXPECT_EQ(h.dispatcher().parked(), 0u);
  std::vector<Response> a;
  for (int turns = 0; a.empty() && turns < 100; ++turns) {
    h.send(3, PingRequest{});
    h.turn();
    EXPECT_EQ(h.answers(3).size(), 1u);
    a = h.answers(1);
  }
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(as<FetchExResponse>(a[0]).records.size(), 32u);
  EXPECT_EQ(h.dispatcher().output_bytes(), 0u) << "every reservation is released";
}

}  // namespace
}  // namespace rustlog

namespace rustlog {
namespace {

// Values of 8 KiB and more in sealed segments leave from the segment
// mapping (common/splice.h) instead of being copied into the answer: every
// FetchEx answer is still byte for byte the whole one, and every v0 answer
// carries the stored values; both spliced many megabytes.
TEST(FetchExSlicesTest, LargeValuesLeaveFromTheMappingAndEveryAnswerIsTheSame) {
  Harness h("never");
  Broker& b = h.broker();
  h.send(99, CreateTopicExRequest{"t", 1, {{"segment.bytes", "262144"}}});
  h.turn();
  h.settle();
  ASSERT_EQ(h.answers(99).size(), 1u);
  std::mt19937_64 rng(20261203);
  auto uniform = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  std::vector<std::string> values;  // by offset (a tombstone: empty, as v0 gives it)
  for (int k = 0; k < 160; ++k) {
    ProduceExRequest req{"t", 0, kBrokerTimestamp, {}};
    const uint64_t n = uniform(1, 4);
    for (uint64_t i = 0; i < n; ++i) {
      ProducerRecord r;
      r.timestamp_us = kBrokerTimestamp;
      if (uniform(0, 3) > 0) r.key = "k" + std::to_string(uniform(0, 99));
      if (uniform(0, 9) > 0)  // else a tombstone
        r.value = std::string(uniform(0, 1) ? uniform(kSpliceMinBytes, 40 * 1024) : uniform(0, kSpliceMinBytes),
                              static_cast<char>('a' + (values.size() % 26)));
      if (uniform(0, 3) == 0) r.headers.push_back({"h", std::string(uniform(0, 40), 'h')});
      values.push_back(r.value.value_or(""));
      req.records.push_back(std::move(r));
    }
    h.send(1, req);
    h.turn();
    auto a = h.answers(1);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(as<ProduceExResponse>(a[0]).base_offset, values.size() - n);
  }
  PartitionLog* log = b.log_for("t", 0);
  ASSERT_NE(log, nullptr);
  ASSERT_GE(log->segment_count(), 8u) << "the log should span many sealed segments";
  const uint64_t next = values.size();
  const uint32_t max_frame = h.cfg().max_frame_bytes;
  size_t spliced_ex = 0, spliced_v0 = 0;
  for (int k = 0; k < 200; ++k) {
    const uint64_t offset = uniform(0, next - 1);
    const auto max_bytes = static_cast<uint32_t>(std::exp(std::uniform_real_distribution<double>(0, std::log(3e6))(rng)));
    SCOPED_TRACE("fetch " + std::to_string(k) + ": offset " + std::to_string(offset) + ", max_bytes " +
                 std::to_string(max_bytes));
    int slices = 0;
    size_t spliced = 0;
    const FetchExRequest ex{"t", 0, offset, max_bytes, 0, 0};
    const std::string got = sliced_answer(b, ex, &slices, &spliced);
    const std::string want = whole_answer(*log, ex, max_frame);
    ASSERT_EQ(got.size(), want.size());
    ASSERT_TRUE(got == want) << "same size, different bytes";
    spliced_ex += spliced;

    const std::string v0 = sliced_answer(b, FetchRequest{"", "t", 0, offset, max_bytes}, &slices, &spliced);
    spliced_v0 += spliced;
    auto f = decode_response(std::string_view(v0).substr(kFrameHeaderBytes));
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    const auto& resp = as<FetchResponse>(*f);
    ASSERT_FALSE(resp.records.empty());
    ASSERT_LE(offset + resp.records.size(), next);
    for (size_t i = 0; i < resp.records.size(); ++i) ASSERT_EQ(resp.records[i], values[offset + i]) << "record " << i;
    EXPECT_EQ(resp.next_offset, offset + resp.records.size());
  }
  EXPECT_GT(spliced_ex, 10u << 20) << "FetchEx answers should have sent large values from the mapping";
  EXPECT_GT(spliced_v0, 10u << 20) << "v0 answers should have sent large values from the mapping";
}

// An answer's spliced values hold the mapping they point into: after the
// segment cache unmapped it (one mapping allowed, another segment read) and
// after the topic was deleted (its files and segments gone), the answer
// still sends the stored bytes.
TEST(FetchExSlicesTest, AnAnswerSentFromTheMappingOutlivesTheUnmapAndTheDelete) {
  BrokerConfig base;
  base.max_mapped_segments = 1;
  Harness h("never", base);
  Broker& b = h.broker();
  h.send(99, CreateTopicExRequest{"t", 1, {{"segment.bytes", "65536"}}});
  h.turn();
  h.settle();
  ASSERT_EQ(h.answers(99).size(), 1u);
  std::vector<std::string> values;
  for (int i = 0; i < 24; ++i) {
    values.push_back(std::string(20 * 1024, static_cast<char>('a' + i)));
    h.send(1, ProduceRequest{"t", 0, {values.back()}});
  }
  h.turn();
  ASSERT_EQ(h.answers(1).size(), values.size());
  ASSERT_GE(b.log_for("t", 0)->segment_count(), 5u);
  // Queued on connection 2 (not taken): offsets 0.. from the first segment.
  h.send(2, FetchExRequest{"t", 0, 0, 45 * 1024, 0, 0});
  h.turn();
  h.turns(3);
  Connection& c = h.conn(2);
  h.dispatcher().collect(c);
  ASSERT_GT(c.pending_out(), 40u * 1024);
  // Read every other segment (the cache unmaps the first), then delete.
  for (uint64_t off = 3; off < values.size(); off += 3) {
    h.send(3, FetchExRequest{"t", 0, off, 1, 0, 0});
    h.turn();
    h.turns(2);
    ASSERT_EQ(h.answers(3).size(), 1u);
  }
  h.send(99, DeleteTopicRequest{"t"});
  h.turn();
  h.settle(1);
  ASSERT_EQ(h.answers(99).size(), 1u);
  ASSERT_EQ(b.log_for("t", 0), nullptr);
  auto a = h.answers(2);
  ASSERT_EQ(a.size(), 1u);
  const auto& f = as<FetchExResponse>(a[0]);
  ASSERT_EQ(f.records.size(), 2u);
  for (size_t i = 0; i < f.records.size(); ++i) EXPECT_EQ(f.records[i].value, values[i]);
}

}  // namespace
}  // namespace rustlog
