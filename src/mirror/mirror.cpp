#include "mirror/mirror.h"

#include <librdkafka/rdkafka.h>

#include <map>
#include <thread>

#include "client/client.h"
#include "client/partitioner.h"
#include "mirror/offset_map.h"

namespace rustlog::mirror {

using client::ClientError;
using client::ClientResult;
using client::ClientStatus;
using client::ErrorSource;
using Clock = std::chrono::steady_clock;

namespace {

struct InFlight {
  bool acked = false;
  int32_t kafka_partition = 0;
  int64_t kafka_offset = -1;
};

struct Part {
  PartitionProgress p;
  uint32_t rustlog_partitions = 0;
  int kafka_partitions = 0;
  uint64_t next_fetch = 0;
  std::map<uint64_t, InFlight> in_flight;  // by RustLog offset
  std::optional<OffsetMapEntry> mapping;   // the last committed record's place in Kafka
};

// One per produced message: which record it is.
struct Ticket {
  size_t part;
  uint64_t offset;
};

}  // namespace

class Mirror::Impl {
 public:
  MirrorOptions o;
  std::optional<client::Client> rl;
  kafka::Handle rk;
  std::vector<Part> parts;
  OffsetMap map;
  size_t in_flight = 0;
  uint64_t mirrored = 0;
  std::optional<ClientError> fatal;
  Clock::time_point started = Clock::now();

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    std::unique_ptr<Ticket> t(static_cast<Ticket*>(m->_private));
    Part& part = self->parts[t->part];
    --self->in_flight;
    if (m->err) {
      if (!self->fatal)
        self->fatal = kafka::kafka_error(
            m->err, "Kafka refused record " + part.p.topic + "/" + std::to_string(part.p.partition) + "@" +
                        std::to_string(t->offset));
      return;  // stays unacknowledged: the group offset never passes it
    }
    InFlight& f = part.in_flight[t->offset];
    f.acked = true;
    f.kafka_partition = m->partition;
    f.kafka_offset = m->offset;
    ++part.p.mirrored;
    ++self->mirrored;
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      const rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
      if (!self->fatal) self->fatal = kafka::kafka_error(orig, "Kafka producer failed for good", buf);
      return;
    }
    // Transient: librdkafka retries with backoff by itself; say so once a while.
    const auto now = Clock::now();
    if (now - self->last_warning < std::chrono::seconds(5)) return;
    self->last_warning = now;
    std::fprintf(stderr, "rustlog: mirror: Kafka: %s (%s); retrying\n", reason,
                 rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
  }
  Clock::time_point last_warning{};

  ClientStatus setup_kafka() {
    kafka::ConfigPairs pairs = {{"enable.idempotence", "true"}, {"acks", "all"},
                                        {"linger.ms", "5"}, {"client.id", "rustlog-mirror"}};
    pairs.insert(pairs.end(), o.kafka_config.begin(), o.kafka_config.end());
    auto conf = kafka::make_conf(o.kafka_bootstrap, pairs);
    if (!conf) return conf.error();
    rd_kafka_conf_set_opaque(*conf, this);
    rd_kafka_conf_set_dr_msg_cb(*conf, &Impl::on_delivery);
    rd_kafka_conf_set_error_cb(*conf, &Impl::on_error);
    auto h = kafka::make_handle(RD_KAFKA_PRODUCER, *conf);
    if (!h) return h.error();
    rk = std::move(*h);
    return {};
  }

  ClientStatus setup_partitions() {
    std::vector<std::string> topics = o.topics;
    if (o.all) {
      auto list = rl->list_topics();
      if (!list) return list.error();
      for (const auto& t : *list) topics.push_back(t.name);
    }
    if (topics.empty()) return ClientError::invalid_argument("mirror: no topics (name them with --topics, or --all)");
    auto loaded = load_offset_map(o.offsets_file);
    if (!loaded) return ClientError(ErrorSource::kClient, loaded.status().code(), loaded.status().message());
    map = std::move(*loaded);
    const int timeout = static_cast<int>(o.kafka_timeout.count());
    for (const auto& topic : topics) {
      auto n = rl->partition_count(topic);
      if (!n) return n.error();
      const std::string kt = o.rename_prefix + topic;
      auto kn = kafka::kafka_partition_count(rk.get(), kt, timeout);
      if (!kn) return ClientError(kn.error().source(), kn.error().code(),
                                  "Kafka unreachable at " + o.kafka_bootstrap + ": " + kn.error().message());
      if (*kn == 0) {
        if (auto st = kafka::kafka_create_topic(rk.get(), kt, static_cast<int>(*n), o.replication_factor,
                                                        timeout);
            !st)
          return st.error();
        for (auto deadline = Clock::now() + o.kafka_timeout; *kn == 0 && Clock::now() < deadline;) {
          kn = kafka::kafka_partition_count(rk.get(), kt, timeout);
          if (!kn) return kn.error();
          if (*kn == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (*kn == 0) return ClientError::invalid_argument("Kafka topic " + kt + " was created but does not show up");
      }
      for (uint32_t p = 0; p < *n; ++p) {
        Part part;
        part.p.topic = topic;
        part.p.partition = p;
        part.p.kafka_topic = kt;
        part.rustlog_partitions = *n;
        part.kafka_partitions = *kn;
        auto committed = rl->committed_offset(o.group, topic, p);
        if (!committed) return committed.error();
        if (*committed) {
          part.next_fetch = **committed;
        } else {
          auto start = rl->earliest_offset(topic, p);
          if (!start) return start.error();
          part.next_fetch = *start;
        }
        part.p.committed = part.next_fetch;
        for (const auto& e : map.partitions)
          if (e.topic == topic && e.partition == p) part.mapping = e;
        parts.push_back(std::move(part));
      }
    }
    map.group = o.group;
    map.kafka = o.kafka_bootstrap;
    return {};
  }

  int32_t kafka_partition_for(const Part& part, const Record& r) const {
    if (part.kafka_partitions >= static_cast<int>(part.rustlog_partitions)) return static_cast<int32_t>(part.p.partition);
    const auto n = static_cast<uint32_t>(part.kafka_partitions);
    if (r.key) return static_cast<int32_t>(client::partition_for_key(*r.key, n));
    return static_cast<int32_t>(part.p.partition % n);
  }

  // Hands one record to librdkafka; false when it must be tried again later.
  bool produce(size_t idx, const Record& r) {
    Part& part = parts[idx];
    auto* t = new Ticket{idx, r.offset};
    const rd_kafka_resp_err_t err = kafka::produce(rk.get(), part.p.kafka_topic, kafka_partition_for(part, r), r.key,
                                                   r.value, r.headers, r.timestamp_us, t);
    if (err) {
      delete t;
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return false;
      if (!fatal)
        fatal = kafka::kafka_error(err, "producing " + part.p.topic + "/" + std::to_string(part.p.partition) +
                                                    "@" + std::to_string(r.offset) + " to Kafka");
      return false;
    }
    part.in_flight.emplace(r.offset, InFlight{});
    ++in_flight;
    return true;
  }

  // Commits, per partition, up to the first record not acknowledged, then
  // replaces the offset map.
  ClientStatus commit() {
    bool changed = false;
    for (Part& part : parts) {
      uint64_t upto = part.p.committed;
      std::optional<std::pair<uint64_t, InFlight>> last;
      while (!part.in_flight.empty() && part.in_flight.begin()->second.acked) {
        last = *part.in_flight.begin();
        upto = last->first + 1;
        part.in_flight.erase(part.in_flight.begin());
      }
      // Nothing unacknowledged: everything fetched is in Kafka (the fetch may
      // have skipped offsets, e.g. compacted ones).
      if (part.in_flight.empty() && !fatal) upto = std::max(upto, part.next_fetch);
      if (upto <= part.p.committed) continue;
      if (auto st = rl->commit_offset(o.group, part.p.topic, part.p.partition, upto); !st) return st.error();
      part.p.committed = upto;
      if (last)
        part.mapping = OffsetMapEntry{part.p.topic, part.p.partition, part.p.kafka_topic, last->second.kafka_partition,
                                      last->first, last->second.kafka_offset, last->first + 1};
      changed = true;
    }
    if (!changed) return {};
    std::vector<OffsetMapEntry> entries;
    for (const Part& part : parts)
      if (part.mapping) entries.push_back(*part.mapping);
    // Keep the entries of partitions this run does not mirror.
    for (const auto& e : map.partitions) {
      bool ours = false;
      for (const Part& part : parts) ours = ours || (part.p.topic == e.topic && part.p.partition == e.partition);
      if (!ours) entries.push_back(e);
    }
    map.partitions = std::move(entries);
    if (Status st = save_offset_map(o.offsets_file, map); !st)
      return ClientError(ErrorSource::kClient, st.code(), "writing the offset map: " + st.message());
    return {};
  }

  bool caught_up() const {
    if (in_flight > 0) return false;
    for (const Part& part : parts)
      if (part.next_fetch < part.p.high_watermark) return false;
    return true;
  }
};

Mirror::Mirror(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Mirror::~Mirror() = default;

ClientResult<std::unique_ptr<Mirror>> Mirror::open(MirrorOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  client::ClientOptions co;
  co.client_id = "rustlog-mirror";
  auto c = client::Client::connect(impl->o.rustlog_broker, co);
  if (!c) return c.error();
  impl->rl = std::move(*c);
  if (auto st = impl->setup_kafka(); !st) return st.error();
  if (auto st = impl->setup_partitions(); !st) return st.error();
  return std::unique_ptr<Mirror>(new Mirror(std::move(impl)));
}

MirrorProgress Mirror::progress() const {
  MirrorProgress m;
  for (const Part& part : impl_->parts) m.partitions.push_back(part.p);
  m.mirrored = impl_->mirrored;
  m.in_flight = impl_->in_flight;
  m.seconds = std::chrono::duration<double>(Clock::now() - impl_->started).count();
  return m;
}

const std::string& Mirror::offsets_file() const { return impl_->o.offsets_file; }

ClientStatus Mirror::run(const std::atomic<bool>& stop, const std::function<void(const MirrorProgress&)>& progress) {
  Impl& m = *impl_;
  m.started = Clock::now();
  auto last_commit = Clock::now(), last_progress = Clock::now();
  auto rustlog_down_since = Clock::time_point::max();
  std::optional<ClientError> rustlog_error;
  std::vector<bool> fetched_once(m.parts.size(), false);
  size_t next = 0;
  while (!stop.load() && !m.fatal) {
    bool got = false;
    for (size_t n = 0; n < m.parts.size() && m.in_flight < m.o.max_in_flight; ++n) {
      const size_t idx = (next + n) % m.parts.size();
      Part& part = m.parts[idx];
      if (fetched_once[idx] && part.next_fetch >= part.p.high_watermark && !m.o.follow) continue;
      client::FetchOptions fo;
      fo.max_bytes = 1 << 20;
      auto f = m.rl->fetch(part.p.topic, part.p.partition, part.next_fetch, fo);
      if (!f) {
        if (f.error().source() != ErrorSource::kTransport) return f.error();
        if (rustlog_down_since == Clock::time_point::max()) rustlog_down_since = Clock::now();
        rustlog_error = f.error();
        (void)m.rl->reconnect();
        break;
      }
      rustlog_down_since = Clock::time_point::max();
      fetched_once[idx] = true;
      part.p.high_watermark = f->high_watermark;
      size_t taken = 0;
      for (const Record& r : f->records) {
        if (m.in_flight >= m.o.max_in_flight || !m.produce(idx, r)) break;
        ++taken;
      }
      if (taken == f->records.size())
        part.next_fetch = f->next_offset;
      else if (taken > 0)
        part.next_fetch = f->records[taken - 1].offset + 1;
      got = got || taken > 0;
    }
    next = (next + 1) % std::max<size_t>(1, m.parts.size());
    if (rustlog_down_since != Clock::time_point::max() && Clock::now() - rustlog_down_since > std::chrono::seconds(30))
      break;
    rd_kafka_poll(m.rk.get(), got ? 0 : 50);
    if (Clock::now() - last_commit >= m.o.commit_interval) {
      if (auto st = m.commit(); !st) return st.error();
      last_commit = Clock::now();
    }
    if (progress && Clock::now() - last_progress >= std::chrono::seconds(1)) {
      progress(this->progress());
      last_progress = Clock::now();
    }
    if (!m.o.follow && m.caught_up() && std::all_of(fetched_once.begin(), fetched_once.end(), [](bool b) { return b; }))
      break;
  }
  // Let what is in flight finish (librdkafka retries inside message.timeout.ms).
  while (m.in_flight > 0 && rd_kafka_outq_len(m.rk.get()) > 0) rd_kafka_poll(m.rk.get(), 100);
  rd_kafka_poll(m.rk.get(), 0);
  ClientStatus st = m.commit();
  if (progress) progress(this->progress());
  if (m.fatal) return *m.fatal;
  if (rustlog_down_since != Clock::time_point::max() && rustlog_error)
    return ClientError(rustlog_error->source(), rustlog_error->code(),
                       "RustLog unreachable for 30 s: " + rustlog_error->message());
  return st;
}

}  // namespace rustlog::mirror
