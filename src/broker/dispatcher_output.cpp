// The Dispatcher's output side: the budget an answer holds while it is
// queued and unsent, answers made ready in queue order, moved to the
// connection's output and counted off as the socket takes them.
#include "broker/dispatcher.h"
#include "common/clock.h"

namespace rustlog {

void Dispatcher::reserve(Connection& c, Deferred& d, uint64_t bytes) {
  c.reserved = c.reserved - d.reserved + bytes;
  output_total_ = output_total_ - d.reserved + bytes;
  d.reserved = bytes;
}

void Dispatcher::make_ready(Connection& c, Deferred& d, std::string frame, Splices splices) {
  reserve(c, d, frame.size() + spliced_bytes(splices));
  d.kind = Deferred::Kind::kReady;
  d.frame = std::move(frame);
  d.splices = std::move(splices);
  d.poll.reset();
  if (d.type != 0 || d.start_ns != 0) broker_.metrics().on_response(d.type, static_cast<uint64_t>(steady_ns() - d.start_ns));
  touch(c);
}

void Dispatcher::collect(Connection& c) {
  while (!c.queue.empty() && c.queue.front().kind == Deferred::Kind::kReady) {
    if (c.output_closed) {  // nobody to send it to
      reserve(c, c.queue.front(), 0);
      c.queue.pop_front();
      ++c.first_seq;
      continue;
    }
    // Sent from its own buffer (and its spliced values from their
    // mappings), never copied again.
    c.out.push(std::move(c.queue.front().frame), std::move(c.queue.front().splices));
    c.queue.pop_front();  // its reservation now covers the unsent bytes in c.out
    ++c.first_seq;
  }
  maybe_finished(c);
}

void Dispatcher::sent(Connection& c, size_t n) {
  c.out.consume(n);
  c.reserved -= n;
  output_total_ -= n;
  if (c.stalled && c.pending_out() == 0) {
    c.stalled = false;
    runnable(c);
  }
  if (c.over_budget && c.reserved <= cfg_.max_connection_output_bytes / 2) {
    c.over_budget = false;
    runnable(c);
  }
  note_output_freed();
  maybe_finished(c);
}

void Dispatcher::output_refused(Connection& c) {
  if (c.stalled || c.out.frames() < kStallAnswers || c.output_closed || c.pending_out() == 0) return;
  c.stalled = true;
  broker_.metrics().output_stalls.inc();
}

void Dispatcher::note_output_freed() {
  if (global_waiters_.empty() || output_total_ > cfg_.max_output_bytes / 4 * 3) return;
  for (uint64_t id : global_waiters_)
    if (Connection* w = find(id)) {
      w->waiting_global = false;
      runnable(*w);
    }
  global_waiters_.clear();
}

}  // namespace rustlog
