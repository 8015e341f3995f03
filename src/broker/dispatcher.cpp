#include "broker/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "protocol/codec.h"
#include "protocol/error_codes_v0.h"

namespace rustlog {

namespace {
int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

TurnClock TurnClock::now() {
  using namespace std::chrono;
  return {duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count(),
          duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()};
}

Dispatcher::Dispatcher(Broker& broker) : broker_(broker), cfg_(broker.config()) {}

Connection& Dispatcher::open(uint64_t id, int fd) {
  auto c = std::make_unique<Connection>(id, fd, cfg_.max_frame_bytes);
  Connection& ref = *c;
  conns_[id] = std::move(c);
  return ref;
}

Connection* Dispatcher::find(uint64_t id) {
  return const_cast<Connection*>(std::as_const(*this).find(id));
}

const Connection* Dispatcher::find(uint64_t id) const {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}

void Dispatcher::drop(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  for (size_t i = 0; i < c.queue.size(); ++i)
    if (c.queue[i].kind == Deferred::Kind::kLongPoll) unpark(c, c.queue[i], c.first_seq + i);
  output_total_ -= c.reserved;
  input_total_ -= c.counted_input;
  conns_.erase(it);  // references to it elsewhere are by id: found missing, skipped
  note_output_freed();
  publish_gauges();
}

// ------------------------------------------------------------------ input

void Dispatcher::feed(Connection& c, std::string_view bytes, const TurnClock& clock) {
  c.decoder.feed(bytes);
  note_input(c, clock);
}

void Dispatcher::note_input(Connection& c, const TurnClock& clock) {
  const size_t b = c.decoder.buffered_bytes();
  input_total_ = input_total_ - c.counted_input + b;
  c.counted_input = b;
  if (b == 0) {
    c.partial_since_ms = -1;
  } else {
    if (c.partial_since_ms < 0) c.partial_since_ms = clock.steady_ms;
    if (!c.partial_timer) {
      c.partial_timer = true;
      timers_.insert({c.partial_since_ms + static_cast<int64_t>(cfg_.partial_frame_timeout_ms), {c.id, kPartialTimer}});
    }
  }
  if (input_total_ < cfg_.max_input_bytes && !input_waiters_.empty()) {
    for (uint64_t id : input_waiters_)
      if (Connection* w = find(id)) {
        w->waiting_input = false;
        runnable(*w);
      }
    input_waiters_.clear();
  }
}

bool Dispatcher::may_read(Connection& c) {
  if (input_total_ < cfg_.max_input_bytes || c.decoder.buffered_bytes() == 0) return true;
  if (!c.waiting_input) {
    c.waiting_input = true;
    input_waiters_.push_back(c.id);
    broker_.metrics().input_budget_waits.inc();
  }
  return false;
}

void Dispatcher::input_closed(Connection& c) {
  c.input_closed = true;
  maybe_finished(c);
}

void Dispatcher::output_failed(Connection& c) {
  c.output_closed = true;
  if (c.pending_out() > 0) sent(c, c.pending_out());
  collect(c);
}

bool Dispatcher::has_work(Connection& c) {
  if (c.blocked() || stopping_) return false;
  auto f = c.decoder.peek();
  return !f || f->has_value();
}

size_t Dispatcher::serve(Connection& c, const TurnClock& clock, size_t max, bool* turn_over) {
  auto& m = broker_.metrics();
  size_t handled = 0;
  const uint64_t reserved_before = c.reserved;
  // Produces are staged by the broker and written per partition in one
  // write (Broker::write_group); their outcomes wait here, in request order,
  // until then. Counted in the budgets as if queued.
  uint64_t grouped_bytes = 0;
  bool grouped_awaits = false;
  auto write_group = [&] {
    if (grouped_.empty()) return;
    std::vector<Outcome> written = broker_.write_group();
    size_t k = 0;
    for (Grouped& g : grouped_) {
      Outcome o = g.outcome ? std::move(*g.outcome) : std::move(written[k++]);
      enqueue(c, std::move(o), g.type, g.handshaken, g.start_ns, g.bound, clock);
    }
    grouped_.clear();
    grouped_bytes = 0;
    grouped_awaits = false;
  };
  while (!c.blocked() && !stopping_) {
    auto f = c.decoder.peek();
    if (!f) {
      // Framing violation: the stream cannot be trusted. Answer, then close.
      write_group();
      Deferred d;
      c.queue.push_back(std::move(d));
      make_ready(c, c.queue.back(), protocol::encode_error_for(0, c.handshaken, f.status()));
      c.closing = true;
      m.connections_protocol_errors.inc();
      break;
    }
    if (!f->has_value()) break;
    const uint64_t reserved = c.reserved + grouped_bytes;
    // Bounded work per turn: requests, the answer bytes they built (one
    // large fetch answer takes the connection's whole turn), and time
    // unless its answers wait for a flush: those share one group commit per
    // turn, and shorter turns would mean more fsyncs for the same records.
    if (handled == max || (handled > 0 && reserved > reserved_before + kTurnAnswerBytes) ||
        (handled > 0 && c.awaiting == 0 && !grouped_awaits && c.turn_deadline_ns != 0 &&
         mono_ns() >= c.turn_deadline_ns)) {
      m.turn_budget_hits.inc();
      if (turn_over) *turn_over = true;
      break;
    }
    const std::string_view payload = **f;
    const uint8_t type = static_cast<uint8_t>(payload[0]);
    if (c.fetching > 0 && Broker::is_fetch(type)) {
      // One fetch in slices at a time: its first slice would be read now,
      // beside the slice the unfinished one reads this turn.
      if (turn_over) *turn_over = true;
      break;
    }
    if (c.output_closed && !Broker::changes_state(type)) {
      c.decoder.pop();  // a read nobody will receive: not evaluated
      ++handled;
      continue;
    }
    const bool appends = Broker::appends_only(type);
    if (!appends) write_group();  // what it reads includes the produces before it
    if (c.awaiting > 0 && !appends) {
      c.held = true;  // evaluated once the answers ahead of it are durable
      break;
    }
    // One answer is always allowed when nothing else is being built or sent
    // (parked polls aside: they may wait for hours), so no request waits
    // forever for a budget smaller than its answer.
    const uint64_t bound = broker_.answer_bound(payload);
    const uint64_t own = c.reserved + grouped_bytes - c.parked * kParkedReserve;
    if (own > 0 && c.reserved + grouped_bytes + bound > cfg_.max_connection_output_bytes) {
      c.over_budget = true;
      m.output_budget_waits.inc();
      break;
    }
    if (output_total_ + grouped_bytes > parked_total_ * kParkedReserve &&
        output_total_ + grouped_bytes + bound > cfg_.max_output_bytes) {
      c.waiting_global = true;
      global_waiters_.push_back(c.id);
      m.output_global_waits.inc();
      break;
    }
    const int64_t start = mono_ns();
    Outcome o = broker_.handle(payload, clock.wall_us, c.handshaken, /*group=*/appends);
    c.decoder.pop();  // the payload view is dead from here
    const bool handshaken = c.handshaken;
    if (type == static_cast<uint8_t>(protocol::MessageType::kHandshake)) c.handshaken = true;
    ++handled;
    c.partial_since_ms = -1;  // a frame completed: the partial-frame clock restarts
    if (const auto* s = std::get_if<outcome::Staged>(&o)) {
      grouped_bytes += s->answer_bytes;
      grouped_awaits = grouped_awaits || s->awaits_flush;
      grouped_.push_back({std::nullopt, type, handshaken, start, bound});
    } else if (!grouped_.empty()) {  // after staged ones: it leaves after them
      const auto* r = std::get_if<outcome::Ready>(&o);
      grouped_bytes += r ? r->frame.size() + spliced_bytes(r->splices) : bound;
      grouped_.push_back({std::move(o), type, handshaken, start, bound});
    } else {
      enqueue(c, std::move(o), type, handshaken, start, bound, clock);
    }
  }
  write_group();
  note_input(c, clock);
  maybe_finished(c);
  publish_gauges();
  return handled;
}

void Dispatcher::enqueue(Connection& c, Outcome o, uint8_t type, bool handshaken, int64_t start_ns,
                         uint64_t bound, const TurnClock& clock) {
  c.queue.emplace_back();
  Deferred& d = c.queue.back();
  d.type = type;
  d.handshaken = handshaken;
  d.start_ns = start_ns;
  std::visit(
      [&](auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, outcome::Ready>) {
          make_ready(c, d, std::move(v.frame), std::move(v.splices));
        } else if constexpr (std::is_same_v<T, outcome::AwaitFlush>) {
          d.kind = Deferred::Kind::kAwaitFlush;
          reserve(c, d, v.frame.size());
          d.frame = std::move(v.frame);
          d.ticket = v.ticket;
          if (c.awaiting++ == 0 && !c.in_awaiting) {
            c.in_awaiting = true;
            awaiting_.push_back(c.id);
          }
        } else if constexpr (std::is_same_v<T, outcome::LongPoll>) {
          park(c, d, v, clock);
        } else if constexpr (std::is_same_v<T, outcome::AdminSteps>) {
          d.kind = Deferred::Kind::kAdminSteps;
          reserve(c, d, bound);
          d.admin_job = v.job;
          admin_[v.job] = {c.id, c.next_seq() - 1};
          ++c.admin;  // its next requests wait: they may depend on the topic
        } else if constexpr (std::is_same_v<T, outcome::Staged>) {
          // Broker::write_group turns every staged produce into its outcome first.
          make_ready(c, d, protocol::encode_error_for(
                               type, handshaken, Status(ErrorCode::kStorageError, "produce staged but never written")));
        } else {
          d.kind = Deferred::Kind::kFetchSlices;
          reserve(c, d, bound);  // the whole answer, before its first slice is read
          d.fetch = std::move(v.state);
          fetching_.push_back({c.id, c.next_seq() - 1});
          ++c.fetching;
          c.sliced_turn = turn_;  // its first slice was read in this turn
        }
      },
      o);
}

// ------------------------------------------------------------ end of turn

void Dispatcher::end_turn(const TurnClock& clock) {
  auto& m = broker_.metrics();
  const Broker::CommitRound round = broker_.group_commit(clock.wall_us / 1000, stopping_);
  size_t released = 0;
  release_flushed(&released);
  if (round.partitions > 0) {
    m.group_commit_partitions.record(round.partitions);
    m.group_commit_requests.record(released);
    m.group_commit_bytes.record(round.bytes);
  }
  wake_polls(round.visible);
  if (stop_pending_) answer_all_polls();
  stop_pending_ = false;
  run_timers(clock);
  advance_fetches();
  advance_admin(clock);
  ++turn_;
  publish_gauges();
}

void Dispatcher::release_flushed(size_t* released) {
  std::vector<uint64_t> still;
  for (uint64_t id : awaiting_) {
    Connection* c = find(id);
    if (!c) continue;
    for (Deferred& d : c->queue) {
      if (d.kind != Deferred::Kind::kAwaitFlush) continue;
      auto r = broker_.flush_result(d.ticket);
      if (!r) continue;
      --c->awaiting;
      ++*released;
      if (r->is_ok()) {
        make_ready(*c, d, std::move(d.frame));
      } else {
        broker_.metrics().on_error(d.type, r->code());
        make_ready(*c, d, protocol::encode_error_for(d.type, d.handshaken, *r));
      }
    }
    if (c->awaiting > 0) {
      still.push_back(id);
      continue;
    }
    c->in_awaiting = false;
    if (c->held) {
      c->held = false;
      runnable(*c);
    }
  }
  awaiting_.swap(still);
}

void Dispatcher::advance_fetches() {
  // One slice of each connection's oldest unfinished fetch per turn: the
  // requests that arrived meanwhile on other connections are handled
  // between two slices, and a connection pipelining many large fetches
  // costs a turn no more than one. Over all connections, a turn's slices
  // read at most kTurnSliceBytes (a slice is at most kFetchSliceBytes, or
  // one larger batch: then it is the turn's only one), and the first to
  // read one is another connection each turn.
  if (fetching_.size() > 1) std::rotate(fetching_.begin(), fetching_.begin() + 1, fetching_.end());
  std::vector<Ref> still;
  uint64_t read = 0;
  for (const Ref& r : fetching_) {
    Connection* c = find(r.conn);
    Deferred* d = c ? c->entry(r.seq) : nullptr;
    if (!d || d->kind != Deferred::Kind::kFetchSlices) continue;
    const bool turn_full = read > 0 && read + Broker::kFetchSliceBytes > kTurnSliceBytes;
    if (c->sliced_turn == turn_ || c->pending_out() >= kSliceAheadBytes || turn_full) {
      still.push_back(r);
      continue;
    }
    c->sliced_turn = turn_;
    const uint64_t budget_before = d->fetch->batch_budget;
    auto frame = broker_.continue_fetch(*d->fetch);
    read += std::max<uint64_t>(1, budget_before - std::min(budget_before, d->fetch->batch_budget));
    if (!frame) {
      still.push_back(r);
      continue;
    }
    Splices splices = std::move(d->fetch->splices);
    d->fetch.reset();
    --c->fetching;
    make_ready(*c, *d, std::move(*frame), std::move(splices));
    if (c->fetching == 0) runnable(*c);  // its next fetch may start
  }
  fetching_.swap(still);
}

void Dispatcher::advance_admin(const TurnClock& clock) {
  // One step of the oldest topic create or delete per turn; at stop, every
  // one to its end (each is bounded by --max-partitions).
  if (!broker_.admin_pending()) return;
  for (auto& done : broker_.admin_step(clock.wall_us, stopping_)) {
    auto it = admin_.find(done.job);
    if (it == admin_.end()) continue;
    const Ref r = it->second;
    admin_.erase(it);
    Connection* c = find(r.conn);
    Deferred* d = c ? c->entry(r.seq) : nullptr;
    if (!d || d->kind != Deferred::Kind::kAdminSteps || d->admin_job != done.job) continue;  // closed meanwhile
    --c->admin;
    make_ready(*c, *d, std::move(done.frame));
    if (c->admin == 0) runnable(*c);
  }
}

void Dispatcher::stop() {
  stopping_ = true;
  stop_pending_ = true;
}

// ------------------------------------------------------------- bookkeeping

void Dispatcher::touch(Connection& c) {
  if (c.touched) return;
  c.touched = true;
  touched_.push_back(c.id);
}

void Dispatcher::runnable(Connection& c) { runnable_.push_back(c.id); }

void Dispatcher::close(Connection& c) {
  if (c.dead) return;
  c.dead = true;
  closed_.push_back(c.id);
}

void Dispatcher::maybe_finished(Connection& c) {
  if (c.dead || !(c.closing || c.input_closed) || !c.queue.empty() || c.pending_out() > 0) return;
  if (!c.closing && !stopping_) {
    auto f = c.decoder.peek();
    if (!f || f->has_value()) return;  // frames that arrived before the close are still handled
  }
  close(c);
}

std::vector<uint64_t> Dispatcher::take_touched() {
  std::vector<uint64_t> out;
  out.swap(touched_);
  for (uint64_t id : out)
    if (Connection* c = find(id)) c->touched = false;
  return out;
}

std::vector<uint64_t> Dispatcher::take_runnable() {
  std::vector<uint64_t> out;
  out.swap(runnable_);
  return out;
}

std::vector<uint64_t> Dispatcher::take_closed() {
  std::vector<uint64_t> out;
  out.swap(closed_);
  return out;
}

int64_t Dispatcher::due_in_ms(const TurnClock& clock, int64_t cap) const {
  if (stop_pending_ || broker_.admin_pending()) return 0;  // steps left
  // Slices left: at once, unless each waits for its connection's socket to
  // take what is unsent (then its EPOLLOUT wakes the loop).
  for (const Ref& r : fetching_) {
    const Connection* c = find(r.conn);
    if (c && c->pending_out() < kSliceAheadBytes) return 0;
  }
  int64_t t = broker_.flush_due_in_ms(clock.wall_us / 1000, cap);
  if (!timers_.empty()) t = std::min(t, timers_.begin()->at - clock.steady_ms);
  return std::max<int64_t>(t, 0);
}

void Dispatcher::publish_gauges() {
  auto& m = broker_.metrics();
  m.output_bytes.set(static_cast<int64_t>(output_total_));
  m.input_bytes.set(static_cast<int64_t>(input_total_));
  m.fetch_parked_now.set(static_cast<int64_t>(parked_total_));
}

}  // namespace rustlog
