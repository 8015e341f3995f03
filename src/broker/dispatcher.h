#pragma once
// The deferred replies of every connection, without sockets: which request
// is handled when, what its answer waits for, and when it may leave. The
// event loop (event_loop.h) moves bytes between sockets and this; unit
// tests drive it directly (tests/unit/dispatcher_test.cpp).
//
// Per connection, requests are handled in arrival order and answered in
// that order (Connection::queue). A request behind an answer that awaits a
// flush is not evaluated until that flush completes, unless it only appends
// (Broker::appends_only): so what a connection reads includes what it wrote
// before (read-your-writes), and many pipelined produces still share one
// group commit. The produces of one connection's turn are staged and
// written per partition in one write (Broker::write_group) before it
// handles anything else and before its turn ends; their answers take their
// places in the queue then.
//
// Budgets, each accounted before it is spent:
//   output  - an answer's size is reserved (Broker::answer_bound) before it
//             is built, per connection and over all connections; a
//             connection past its budget, or a request that would take the
//             total past the broker's, waits until answers drain
//   unsent  - a connection whose socket refuses its answers while
//             kStallAnswers of them wait unsent (a client that does not
//             read) is neither read nor served until the socket took them
//             all: the bytes budget alone would let a non-reader of small
//             answers (a produce's are 17 bytes) go on for millions of them
//   input   - bytes buffered in decoders count against a broker-wide total;
//             past it, connections holding a partial frame are not read; a
//             connection holding a partial frame for longer than the
//             timeout is closed
//   turn    - at most max_requests_per_turn requests per connection per
//             turn, none started once its turn passed its deadline
//             (Connection::turn_deadline_ns, --max-turn-us) unless its
//             answers wait for a flush (they share the turn's group commit),
//             and no more once its answers of the turn pass 256 KiB;
//             a fetch (legacy or FetchEx, a woken long poll too) is read one
//             slice per turn (Broker::kFetchSliceBytes, at least one batch),
//             at most one slice per connection per turn: a connection's
//             next fetch starts once its unfinished one is read (answers
//             leave in order: it would only wait)
//   parked  - long polls per connection and in total; more are answered at
//             once. Parked polls are indexed by partition and by deadline:
//             an append wakes only the polls of its partition, and nothing
//             looks at the others until their deadline.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/broker.h"
#include "broker/connection.h"

namespace rustlog {

// The loop's clock, read once per turn.
struct TurnClock {
  int64_t steady_ms = 0;  // deadlines and timeouts
  int64_t wall_us = 0;    // append timestamps and flush-interval policy
  static TurnClock now();
};

class Dispatcher {
 public:
  static constexpr uint64_t kTurnAnswerBytes = 256 * 1024;  // answer bytes per connection per turn
  static constexpr uint32_t kStallAnswers = 65536;          // unsent answers a socket may refuse (unsent, above)
  // A fetch's next slice is read only while less than this waits unsent on
  // its connection: answers are not built faster than the socket takes them
  // (the event loop writes at most 256 KiB to a connection per turn).
  static constexpr uint64_t kSliceAheadBytes = 512 * 1024;
  // Batch bytes the fetches' slices may read per turn over all connections
  // (at least one slice, which may be one larger batch): several connections each reading a slice of large
  // batches would otherwise make one turn as long as all their slices.
  static constexpr uint64_t kTurnSliceBytes = 256 * 1024;

  explicit Dispatcher(Broker& broker);

  Connection& open(uint64_t id, int fd);
  Connection* find(uint64_t id);
  const Connection* find(uint64_t id) const;
  // Forgets a connection: its queued answers are dropped, its budgets freed.
  void drop(uint64_t id);
  size_t connections() const { return conns_.size(); }
  template <typename F>
  void for_each(F f) {
    for (auto& [id, c] : conns_) f(*c);
  }

  // Bytes arrived on `c`.
  void feed(Connection& c, std::string_view bytes, const TurnClock& clock);
  // Whether `c` may read more now; false (and `c` waits for the input
  // budget) when the broker-wide input budget is spent and `c` holds a
  // partial frame.
  bool may_read(Connection& c);
  // The peer closed its side: what arrived is still handled and answered.
  void input_closed(Connection& c);
  // The peer cannot be written to any more (reset, broken pipe): what
  // arrived is still handled (appends and commits apply), answers are dropped.
  void output_failed(Connection& c);
  // Handles up to `max` of c's complete frames; returns how many it handled.
  // *turn_over is set when c used its turn (requests or answer bytes) with
  // frames left.
  size_t serve(Connection& c, const TurnClock& clock, size_t max, bool* turn_over = nullptr);
  // Whether `c` has a complete frame it could handle now.
  bool has_work(Connection& c);

  // End of a loop turn: group commit, then release the answers it made
  // durable, wake the long polls of partitions that moved, answer those past
  // their deadline, read one more slice of each connection's first unfinished
  // fetch, close
  // connections past the partial-frame timeout.
  void end_turn(const TurnClock& clock);
  // Stop: no request is handled any more; at the next end_turn everything
  // appended is flushed and every long poll answered (within the budgets;
  // a connection without budget left is closed instead).
  void stop();
  bool stopping() const { return stopping_; }

  // Moves c's ready answers, in order, to c.out.
  void collect(Connection& c);
  // `n` bytes of c.out were written.
  void sent(Connection& c, size_t n);
  // The socket refused c.out's rest (it waits for the socket to be
  // writable): past kStallAnswers unsent answers, c stalls until c.out drains.
  void output_refused(Connection& c);

  // Marks `c` to be closed (take_closed); nothing more is sent to it.
  void close(Connection& c);

  // Connections with new output since the last call.
  std::vector<uint64_t> take_touched();
  // Connections that were blocked and may handle frames (or read) again.
  std::vector<uint64_t> take_runnable();
  // Connections to close now (finished, timed out, or no budget at stop).
  std::vector<uint64_t> take_closed();

  // Milliseconds until end_turn has timed work (0: work waits now).
  int64_t due_in_ms(const TurnClock& clock, int64_t cap) const;
  uint64_t output_bytes() const { return output_total_; }
  uint64_t input_bytes() const { return input_total_; }
  size_t parked() const { return parked_total_; }

 private:
  struct Ref {
    uint64_t conn;
    uint64_t seq;
    auto operator<=>(const Ref&) const = default;
  };
  struct Timer {
    int64_t at;
    Ref ref;           // seq = ~0: the connection's partial-frame timer
    auto operator<=>(const Timer&) const = default;
  };
  static constexpr uint64_t kPartialTimer = ~0ull;
  static constexpr uint64_t kParkedReserve = 256;  // a parked poll holds no answer yet: only its bookkeeping

  void enqueue(Connection& c, Outcome o, uint8_t type, bool handshaken, int64_t start_ns, uint64_t bound,
               const TurnClock& clock);
  void park(Connection& c, Deferred& d, outcome::LongPoll& poll, const TurnClock& clock);
  // Makes entry `d` of `c` ready with `frame` (its reservation becomes the
  // frame's size) and records the request's latency.
  void make_ready(Connection& c, Deferred& d, std::string frame, Splices splices = {});
  // Answers a parked poll (final: whatever there is); false if still waiting.
  bool answer_poll(Connection& c, Deferred& d, uint64_t seq, bool final);
  void unpark(Connection& c, Deferred& d, uint64_t seq);
  void release_flushed(size_t* released);
  void wake_polls(const std::vector<LogId>& logs);
  void run_timers(const TurnClock& clock);
  void answer_all_polls();
  void advance_fetches();
  void advance_admin(const TurnClock& clock);
  void reserve(Connection& c, Deferred& d, uint64_t bytes);
  void note_input(Connection& c, const TurnClock& clock);
  void note_output_freed();
  void touch(Connection& c);
  void runnable(Connection& c);
  void maybe_finished(Connection& c);
  void publish_gauges();

  // A request handled while produces of the same turn are staged (serve):
  // its outcome, or none for a staged produce (Broker::write_group's).
  struct Grouped {
    std::optional<Outcome> outcome;
    uint8_t type = 0;
    bool handshaken = false;
    int64_t start_ns = 0;
    uint64_t bound = 0;
  };

  Broker& broker_;
  const BrokerConfig& cfg_;
  std::vector<Grouped> grouped_;  // serve's, kept for its capacity
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::vector<uint64_t> awaiting_;  // connections with kAwaitFlush entries
  std::unordered_map<LogId, std::set<Ref>> polls_;  // parked long polls by partition
  std::set<Timer> timers_;                          // poll deadlines and partial-frame timeouts
  std::vector<Ref> fetching_;                       // fetches with slices left, oldest first
  std::unordered_map<uint64_t, Ref> admin_;         // topic creates and deletes under way, by job
  std::vector<uint64_t> global_waiters_, input_waiters_;
  std::vector<uint64_t> touched_, runnable_, closed_;
  uint64_t output_total_ = 0;
  uint64_t input_total_ = 0;
  size_t parked_total_ = 0;
  uint64_t turn_ = 1;  // the turn under way (end_turn moves it): which connections read a fetch slice in it
  bool stopping_ = false;
  bool stop_pending_ = false;  // stop() called, polls not yet answered
};

}  // namespace rustlog
