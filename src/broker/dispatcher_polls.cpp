// The Dispatcher's long polls and timers: parked FetchEx requests indexed
// by partition (woken by appends to it) and by deadline (one ordered set
// holding poll deadlines and partial-frame timeouts), so a turn looks only
// at polls that can be answered.
#include <spdlog/spdlog.h>

#include "broker/dispatcher.h"

namespace rustlog {

void Dispatcher::park(Connection& c, Deferred& d, outcome::LongPoll& poll, const TurnClock& clock) {
  d.kind = Deferred::Kind::kLongPoll;
  d.poll = std::make_unique<protocol::FetchExRequest>(std::move(poll.request));
  if (c.parked >= cfg_.max_parked_fetches_per_connection || parked_total_ >= cfg_.max_parked_fetches) {
    broker_.metrics().fetch_parked_refused.inc();
    answer_poll(c, d, c.next_seq() - 1, true);
    return;
  }
  const uint64_t seq = c.next_seq() - 1;
  reserve(c, d, kParkedReserve);
  // A read returns at most one frame's worth: a poll wanting more than that
  // can only be answered at its deadline, so appends need not wake it.
  d.poll_log = d.poll->min_bytes > cfg_.max_frame_bytes ? 0 : poll.log;
  d.deadline_ms = clock.steady_ms + static_cast<int64_t>(d.poll->max_wait_ms);
  if (d.poll_log != 0) polls_[d.poll_log].insert({c.id, seq});
  timers_.insert({d.deadline_ms, {c.id, seq}});
  ++c.parked;
  ++parked_total_;
}

void Dispatcher::unpark(Connection& c, Deferred& d, uint64_t seq) {
  if (auto it = polls_.find(d.poll_log); it != polls_.end()) {
    it->second.erase({c.id, seq});
    if (it->second.empty()) polls_.erase(it);
  }
  timers_.erase({d.deadline_ms, {c.id, seq}});
  --c.parked;
  --parked_total_;
}

bool Dispatcher::answer_poll(Connection& c, Deferred& d, uint64_t seq, bool final) {
  // The answer is built within the budgets left (a fetch returns at least
  // one batch whatever its max_bytes): a parked poll reserved nothing for it.
  protocol::FetchExRequest req = *d.poll;
  const uint64_t conn_left =
      cfg_.max_connection_output_bytes > c.reserved ? cfg_.max_connection_output_bytes - c.reserved : 0;
  const uint64_t total_left = cfg_.max_output_bytes > output_total_ ? cfg_.max_output_bytes - output_total_ : 0;
  const uint64_t left = std::min(conn_left, total_left) / 4;  // FetchEx: up to 4x the stored bytes
  req.max_bytes = static_cast<uint32_t>(std::min<uint64_t>(req.max_bytes, std::max<uint64_t>(left, 1)));
  Outcome o = broker_.retry_fetch(req, final, d.handshaken);
  if (std::holds_alternative<outcome::LongPoll>(o)) return false;
  if (auto* r = std::get_if<outcome::Ready>(&o)) {
    make_ready(c, d, std::move(r->frame), std::move(r->splices));
    return true;
  }
  // A large answer: read a slice per turn like any other fetch, its whole
  // size reserved first.
  d.kind = Deferred::Kind::kFetchSlices;
  d.poll.reset();
  reserve(c, d, broker_.fetch_ex_bound(req.max_bytes));
  d.fetch = std::move(std::get<outcome::FetchSlices>(o).state);
  fetching_.push_back({c.id, seq});
  ++c.fetching;
  c.sliced_turn = turn_;
  return true;
}

void Dispatcher::wake_polls(const std::vector<LogId>& logs) {
  for (LogId log : logs) {
    auto it = polls_.find(log);
    if (it == polls_.end()) continue;
    const std::set<Ref> refs = it->second;  // answered ones leave the set
    for (const Ref& r : refs) {
      Connection* c = find(r.conn);
      Deferred* d = c ? c->entry(r.seq) : nullptr;
      if (!d || d->kind != Deferred::Kind::kLongPoll) continue;
      if (answer_poll(*c, *d, r.seq, false)) unpark(*c, *d, r.seq);
    }
  }
}

void Dispatcher::run_timers(const TurnClock& clock) {
  auto& m = broker_.metrics();
  while (!timers_.empty() && timers_.begin()->at <= clock.steady_ms) {
    const Timer t = *timers_.begin();
    Connection* c = find(t.ref.conn);
    if (t.ref.seq != kPartialTimer) {
      Deferred* d = c ? c->entry(t.ref.seq) : nullptr;
      if (d && d->kind == Deferred::Kind::kLongPoll) {
        answer_poll(*c, *d, t.ref.seq, true);
        unpark(*c, *d, t.ref.seq);  // erases the timer
      } else {
        timers_.erase(timers_.begin());
      }
      continue;
    }
    timers_.erase(timers_.begin());
    if (!c) continue;
    c->partial_timer = false;
    if (c->partial_since_ms < 0 || c->blocked()) continue;  // no partial frame, or we hold it up
    const int64_t due = c->partial_since_ms + static_cast<int64_t>(cfg_.partial_frame_timeout_ms);
    if (due > clock.steady_ms) {
      c->partial_timer = true;
      timers_.insert({due, {c->id, kPartialTimer}});
      continue;
    }
    spdlog::debug("connection {}: closed after holding a partial frame for {} ms", c->id,
                  cfg_.partial_frame_timeout_ms);
    m.connections_idle_closed.inc();
    close(*c);
  }
}

void Dispatcher::answer_all_polls() {
  std::vector<Ref> polls;
  for (const Timer& t : timers_)
    if (t.ref.seq != kPartialTimer) polls.push_back(t.ref);
  for (const Ref& r : polls) {
    Connection* c = find(r.conn);
    Deferred* d = c ? c->entry(r.seq) : nullptr;
    if (!d || d->kind != Deferred::Kind::kLongPoll) continue;
    if (c->reserved >= cfg_.max_connection_output_bytes || output_total_ >= cfg_.max_output_bytes)
      close(*c);  // no budget left to build its answer: the client sees the close
    else
      answer_poll(*c, *d, r.seq, true);
    unpark(*c, *d, r.seq);
  }
}

}  // namespace rustlog
