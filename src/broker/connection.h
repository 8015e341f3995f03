#pragma once
// One client connection as the loop sees it, sockets aside: the frame
// decoder for what arrives, and ONE ordered queue of deferred replies for
// what goes out. Every handled request takes the next entry; an entry is
// ready at once (most requests) or later (after a group-commit flush, when a
// long poll is answered, when the last slice of a fetch is read, when a
// topic create or delete has done its last step).
// Frames leave strictly in queue order, so clients may pipeline.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "broker/outcome.h"
#include "broker/output_queue.h"
#include "protocol/frame.h"

namespace rustlog {

struct Deferred {
  enum class Kind : uint8_t { kReady, kAwaitFlush, kLongPoll, kFetchSlices, kAdminSteps };
  Kind kind = Kind::kReady;
  uint8_t type = 0;       // request type byte, for its latency metric
  bool handshaken = false;  // the connection had sent Handshake: extended error codes
  int64_t start_ns = 0;   // steady clock when its handling began
  uint64_t reserved = 0;  // output budget held for this answer
  std::string frame;      // kReady / kAwaitFlush: the answer
  Splices splices;        // kReady: its values sent from segment mappings (common/splice.h)
  FlushTicket ticket;     // kAwaitFlush
  LogId poll_log = 0;     // kLongPoll: the partition it waits on
  int64_t deadline_ms = 0;
  std::unique_ptr<protocol::FetchExRequest> poll;  // kLongPoll
  std::unique_ptr<FetchState> fetch;               // kFetchSlices
  uint64_t admin_job = 0;                          // kAdminSteps: Broker::admin_step's job
};

struct Connection {
  Connection(uint64_t id_, int fd_, uint32_t max_frame) : id(id_), fd(fd_), decoder(max_frame) {}
  uint64_t id;
  int fd;  // the event loop's socket; unused below it
  protocol::FrameDecoder decoder;
  std::deque<Deferred> queue;
  uint64_t first_seq = 0;  // sequence number of queue.front()
  uint32_t awaiting = 0;   // kAwaitFlush entries in the queue
  uint32_t parked = 0;     // kLongPoll entries in the queue
  uint32_t fetching = 0;   // kFetchSlices entries in the queue
  uint32_t admin = 0;      // kAdminSteps entries: nothing after one is handled until it is answered
  uint64_t reserved = 0;   // output budget held: queued answers + unsent bytes
  OutputQueue out;         // answers being written

  // Why its frames are not handled now (each cleared by the dispatcher,
  // which then reports the connection runnable again).
  bool held = false;            // a reading request waits behind an unflushed answer
  bool over_budget = false;     // its answers reached its output budget
  bool waiting_global = false;  // all answers reached the broker-wide budget
  bool waiting_input = false;   // buffered input reached the broker-wide budget
  bool closing = false;         // after a framing error: answer what is queued, handle nothing more
  bool input_closed = false;    // the peer closed its side: handle what arrived, then close
  bool output_closed = false;   // the peer can no longer be written to: answers are dropped
  bool dead = false;            // to be closed now
  bool touched = false;         // has new output this turn
  bool in_awaiting = false;     // listed among connections with kAwaitFlush entries
  bool handshaken = false;      // has sent Handshake: errors carry extended codes (protocol/error_codes_v0.h)
  bool stalled = false;         // its socket refused its answers with Dispatcher::kStallAnswers of them unsent

  // Socket state, for the event loop (edge-triggered epoll).
  bool readable = false;
  bool writable = false;
  bool in_ready = false;

  int64_t partial_since_ms = -1;  // holds bytes of a frame not yet complete, since
  bool partial_timer = false;
  size_t counted_input = 0;       // decoder bytes counted in the broker-wide input total
  uint64_t sliced_turn = 0;       // the last turn one of its fetches read a slice
  uint64_t write_turn = 0;        // the event loop's turn its written_in_turn counts
  size_t written_in_turn = 0;     // bytes sent to it in that turn
  bool in_write_again = false;    // listed to write the rest of its output next turn
  int64_t turn_deadline_ns = 0;   // steady clock: its turn ends once a request finishes past this (0: no limit)

  Deferred* entry(uint64_t seq) {
    if (queue.empty() || seq < first_seq) return nullptr;
    const uint64_t i = seq - first_seq;
    return i < queue.size() ? &queue[i] : nullptr;
  }
  uint64_t next_seq() const { return first_seq + queue.size(); }
  size_t pending_out() const { return out.pending(); }
  bool blocked() const { return held || admin > 0 || over_budget || stalled || waiting_global || closing || dead; }
};

}  // namespace rustlog
