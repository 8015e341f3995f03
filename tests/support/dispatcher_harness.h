#pragma once
// A real Broker over a temporary data directory, driven through the
// Dispatcher the way the event loop drives it (feed bytes, serve, end the
// turn, collect the answers), without sockets: for the unit tests of
// request scheduling (dispatcher_test.cpp, fetch_ex_slices_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "broker/dispatcher.h"
#include "protocol/codec.h"
#include "support/temp_dir.h"

namespace rustlog {

using namespace protocol;

class Harness {
 public:
  explicit Harness(const std::string& flush, BrokerConfig base = {}) : cfg_(std::move(base)) {
    cfg_.data_dir = dir_.path();
    auto p = FlushPolicy::parse(flush);
    EXPECT_TRUE(p.is_ok());
    cfg_.flush = *p;
    cfg_.topic_defaults.flush = *p;
    cfg_.sync_workers = 0;
    // Tests make topics with small segments (as BrokerProcess allows them).
    cfg_.segment_floors = {.bytes = 1024, .ms = 1};
    broker_ = std::make_unique<Broker>(cfg_);
    EXPECT_TRUE(broker_->open(nullptr).is_ok());
    dispatcher_ = std::make_unique<Dispatcher>(*broker_);
    clock_ = TurnClock::now();
  }

  Connection& conn(uint64_t id) {
    if (Connection* c = dispatcher_->find(id)) return *c;
    return dispatcher_->open(id, -1);
  }
  void send(uint64_t id, const Request& r) {
    std::string bytes;
    ASSERT_TRUE(encode_request(r, bytes).is_ok());
    pending_[id] += bytes;
  }
  void send_raw(uint64_t id, const std::string& bytes) { pending_[id] += bytes; }
  // Everything sent so far arrives in one read per connection (one
  // pipelined write each), in connection order; then the turn ends.
  // What was sent arrives (without serving it).
  void feed_pending() {
    for (auto& [id, bytes] : pending_) {
      if (bytes.empty()) continue;
      dispatcher_->feed(conn(id), bytes, clock_);
      bytes.clear();
    }
  }
  void turn() {
    feed_pending();
    for (uint64_t id : runnable_ids()) dispatcher_->serve(conn(id), clock_, cfg_.max_requests_per_turn);
    dispatcher_->end_turn(clock_);
  }
  void turns(int n) {
    for (int i = 0; i < n; ++i) turn();
  }
  // The answers that left connection `id`, decoded (and taken: its output
  // budget is freed as a socket write would).
  std::vector<Response> answers(uint64_t id, bool drain = true) {
    Connection& c = conn(id);
    dispatcher_->collect(c);
    FrameDecoder dec(cfg_.max_frame_bytes);
    dec.feed(c.out.copy_pending());
    if (drain) dispatcher_->sent(c, c.pending_out());
    std::vector<Response> out;
    while (true) {
      auto f = dec.next();
      EXPECT_TRUE(f.is_ok());
      if (!f || !f->has_value()) break;
      auto r = decode_response(**f);
      EXPECT_TRUE(r.is_ok()) << r.status().to_string();
      if (r) out.push_back(*r);
    }
    return out;
  }
  // Turns until no topic create or delete is under way (each does one step
  // of one per turn), then `n` more.
  void settle(int n = 0) {
    for (int i = 0; i < 100000 && broker_->admin_pending(); ++i) turn();
    turns(n);
  }
  void create(const std::string& topic, uint32_t partitions = 1) {
    send(99, CreateTopicRequest{topic, partitions});
    turn();
    settle(1);
    auto a = answers(99);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<CreateTopicResponse>(a[0]));
  }
  // `n` produces from connection `id` of one `bytes`-byte value each to
  // partition 0 of `topic`, in one turn, answered.
  void fill(uint64_t id, const std::string& topic, int n, size_t bytes) {
    const std::string value(bytes, 'v');
    for (int i = 0; i < n; ++i) send(id, ProduceRequest{topic, 0, {value}});
    turn();
    ASSERT_EQ(answers(id).size(), static_cast<size_t>(n));
  }
  void advance_ms(int64_t ms) {
    clock_.steady_ms += ms;
    clock_.wall_us += ms * 1000;
  }

  Broker& broker() { return *broker_; }
  Dispatcher& dispatcher() { return *dispatcher_; }
  BrokerConfig& cfg() { return cfg_; }

 private:
  std::vector<uint64_t> runnable_ids() {
    std::vector<uint64_t> ids;
    for (auto& [id, b] : pending_) ids.push_back(id);
    for (uint64_t id : dispatcher_->take_runnable()) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  }

  test::TempDir dir_{"rustlog-dispatcher"};
  BrokerConfig cfg_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::map<uint64_t, std::string> pending_;
  TurnClock clock_;
};

template <typename T>
const T& as(const Response& r) {
  if (const auto* e = std::get_if<ErrorResponse>(&r))
    ADD_FAILURE() << "Error " << static_cast<int>(e->code) << ": " << e->message;
  EXPECT_TRUE(std::holds_alternative<T>(r));
  static const T empty{};
  return std::holds_alternative<T>(r) ? std::get<T>(r) : empty;
}

}  // namespace rustlog
