#include "storage/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>

namespace rustlog {

std::string Segment::file_name(uint64_t base_offset, const char* ext) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%020" PRIu64 "%s", base_offset, ext);
  return buf;
}

std::optional<uint64_t> Segment::parse_log_file_name(const std::string& name) {
  if (name.size() != 24 || name.compare(20, 4, ".log") != 0) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    const auto d = static_cast<uint64_t>(name[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;  // > 2^64 - 1
    v = v * 10 + d;
  }
  return v;
}

Segment::Segment(std::string dir, uint64_t base, uint32_t interval, SegmentCache* cache)
    : dir_(std::move(dir)), base_(base), interval_(interval), cache_(cache), policy_(interval),
      next_offset_(base) {}

Segment::~Segment() {
  if (cache_) cache_->forget(this);
  unmap();
}

std::string Segment::path_for(const char* ext) const { return dir_ + "/" + file_name(base_, ext); }
std::string Segment::log_path() const { return path_for(".log"); }
std::string Segment::index_path() const { return path_for(".index"); }
std::string Segment::time_index_path() const { return path_for(".timeindex"); }

Result<std::unique_ptr<Segment>> Segment::create(const std::string& dir, uint64_t base,
                                                 uint32_t interval, SegmentCache* cache) {
  std::unique_ptr<Segment> s(new Segment(dir, base, interval, cache));
  // Not O_APPEND: appends pwrite at the data's end, which is before the
  // file's end once zeros are preallocated.
  auto log = File::open(s->log_path(), O_RDWR | O_CREAT);
  if (!log) return log.status();
  s->log_ = std::move(*log);
  RUSTLOG_RETURN_IF_ERROR(s->log_.truncate(0));
  for (const auto& p : {s->index_path(), s->time_index_path()}) {
    auto f = File::open(p, O_WRONLY | O_CREAT | O_TRUNC);
    if (!f) return f.status();
  }
  RUSTLOG_RETURN_IF_ERROR(fsync_dir(dir));
  RUSTLOG_RETURN_IF_ERROR(s->activate());
  return s;
}

Result<std::unique_ptr<Segment>> Segment::open(const std::string& dir, uint64_t base,
                                               uint32_t interval, SegmentCache* cache,
                                               SegmentScanReport* report, bool writable) {
  std::unique_ptr<Segment> s(new Segment(dir, base, interval, cache));
  auto log = File::open(s->log_path(), writable ? O_RDWR : O_RDONLY);
  if (!log) return log.status();
  s->log_ = std::move(*log);
  auto sz = s->log_.size();
  if (!sz) return sz.status();
  s->size_ = *sz;  // until a scan finds a zero tail
  s->file_end_ = *sz;
  s->sealed_ = true;
  s->writable_ = writable;
  struct stat stt;
  if (::fstat(s->log_.fd(), &stt) != 0) return io_error("cannot stat", s->log_path(), errno);
  s->last_append_us_ = static_cast<int64_t>(stt.st_mtim.tv_sec) * 1000000 + stt.st_mtim.tv_nsec / 1000;
  RUSTLOG_RETURN_IF_ERROR(s->load_indexes(report));
  if (!s->index_bad_) RUSTLOG_RETURN_IF_ERROR(s->scan_tail(report));
  // Counted against the descriptor cap from now on: opening a log of
  // thousands of segments keeps only the most recent ones open.
  if (s->cache_) s->cache_->touch_open(s.get());
  return s;
}

Status Segment::activate() {
  unmap();
  if (cache_) cache_->forget(this);
  if (!log_.is_open()) {
    auto log = File::open(log_path(), O_RDWR);
    if (!log) return log.status();
    log_ = std::move(*log);
  }
  auto i = File::open(index_path(), O_WRONLY | O_CREAT | O_APPEND);
  if (!i) return i.status();
  auto t = File::open(time_index_path(), O_WRONLY | O_CREAT | O_APPEND);
  if (!t) return t.status();
  index_file_ = std::move(*i);
  time_index_file_ = std::move(*t);
  sealed_ = false;
  return Status::ok();
}

Status Segment::ensure_open() {
  const bool cached = sealed_ && cache_ != nullptr;
  if (log_.is_open()) {
    if (cached) cache_->touch_open(this);
    return Status::ok();
  }
  const std::string path = renamed_ ? log_path() + kSegmentDeletedSuffix : log_path();
  auto log = File::open(path, writable_ ? O_RDWR : O_RDONLY);
  if (!log)
    return Status(log.status().code(),
                  "cannot reopen sealed segment file for reading (" + log.status().message() +
                      "); if descriptors ran out, raise the limit (ulimit -n / LimitNOFILE) or lower "
                      "--max-open-segment-files / --max-connections");
  log_ = std::move(*log);
  if (cached) cache_->touch_open(this, /*opened=*/true);
  return Status::ok();
}

bool Segment::close_file() {
  // Only a sealed segment's descriptor is the cache's (the active one is
  // appended to and fdatasync'ed, by the sync workers too), and only once
  // what recovery validated in it is synced.
  if (!sealed_ || dirty_) return false;
  log_.close();
  return true;
}

Status Segment::ensure_mapped() {
  if (map_ == nullptr && size_ > 0) {
    RUSTLOG_RETURN_IF_ERROR(ensure_open());
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, log_.fd(), 0);
    if (m == MAP_FAILED) return io_error("mmap failed on", log_path(), errno);
    const size_t len = size_;
    map_base_ = static_cast<const uint8_t*>(m);
    map_ = BytesPin(map_base_, [len](const uint8_t* p) { ::munmap(const_cast<uint8_t*>(p), len); });
    map_len_ = len;
  }
  if (cache_ && map_) cache_->touch_mapped(this);
  return Status::ok();
}

void Segment::unmap() {
  map_.reset();  // munmap once no answer holds it either
  map_base_ = nullptr;
  map_len_ = 0;
}

Result<const uint8_t*> Segment::bytes_at(uint64_t pos, size_t n, std::string& buf) {
  if (pos + n > size_) return Status(ErrorCode::kInternal, "read past end of " + log_path());
  if (sealed_) {
    RUSTLOG_RETURN_IF_ERROR(ensure_mapped());
    if (map_ && pos + n <= map_len_) return map_base_ + pos;
  }
  if (buf.size() < n) buf.resize(n);
  RUSTLOG_RETURN_IF_ERROR(ensure_open());
  RUSTLOG_RETURN_IF_ERROR(log_.pread_exact(buf.data(), n, pos));
  return reinterpret_cast<const uint8_t*>(buf.data());
}

ScanStart Segment::scan_start(uint64_t pos, uint64_t next_offset, bool exact_first,
                              const BatchAnchors* anchors) {
  return ScanStart{.position = pos,
                   .next_offset = next_offset,
                   .segment_base = base_,
                   .exact_first = exact_first,
                   .check_crc = true,
                   .anchors = anchors,
                   .verified = &verified_};
}

void Segment::index_in_memory(const IndexPolicy::Entry& e) {
  if (e.offset) oi_.add(e.offset->first, e.offset->second);
  if (e.time) ti_.add(e.time->first, e.time->second);
}

Status Segment::append_index_entries(const IndexPolicy::Entry& e) {
  index_in_memory(e);
  if (sealed_ || index_files_stale_) return Status::ok();
  std::string ob, tb;
  if (e.offset) OffsetIndex::serialize_entry(e.offset->first, e.offset->second, ob);
  if (e.time) TimeIndex::serialize_entry(e.time->first, e.time->second, tb);
  Status st = Status::ok();
  if (!ob.empty()) st = index_file_.write_all(ob);
  if (st && !tb.empty()) st = time_index_file_.write_all(tb);
  // The index is derived data: a failed write is repaired on seal or by
  // recovery, it never fails the append.
  if (!st) index_files_stale_ = true;
  return Status::ok();
}

Status Segment::append(std::string_view batch, const BatchHeader& h) {
  return append_run(batch, std::span<const BatchHeader>(&h, 1));
}

Status Segment::append_run(std::string_view bytes, std::span<const BatchHeader> hs) {
  const IndexPolicy saved = policy_;
  const uint64_t pos = size_;
  std::vector<IndexPolicy::Entry> entries;
  entries.reserve(hs.size());
  uint64_t at = pos;
  for (const BatchHeader& h : hs) {
    entries.push_back(policy_.on_batch(static_cast<uint32_t>(h.base_offset - base_), static_cast<uint32_t>(at),
                                       static_cast<uint32_t>(h.total_size()), h.max_timestamp));
    at += h.total_size();
  }
  Status st = preallocate_for(bytes.size());
  if (st) st = log_.pwrite_all(bytes, pos);
  if (!st) {
    policy_ = saved;
    // Cut any partial write back to the last whole batch (the zeros ahead
    // go too: the next append preallocates again).
    Status t = log_.truncate(pos);
    if (!t) return Status(ErrorCode::kStorageError, st.message() + "; and " + t.message());
    file_end_ = pos;
    return st;
  }
  size_ += bytes.size();
  file_end_ = std::max(file_end_, size_);
  dirty_ = true;
  // This process built these batches (their CRCs included) and wrote them.
  verified_.add(pos, size_);
  if (pos == 0) first_ts_ = hs.front().first_timestamp;
  next_offset_ = hs.back().next_offset();
  for (const BatchHeader& h : hs) max_ts_ = std::max(max_ts_, h.max_timestamp);
  for (const auto& e : entries) RUSTLOG_RETURN_IF_ERROR(append_index_entries(e));
  return Status::ok();
}

Status Segment::flush() {
  if (!dirty_) return Status::ok();
  RUSTLOG_RETURN_IF_ERROR(log_.datasync());
  dirty_ = false;
  return Status::ok();
}

Status Segment::seal() {
  if (sealed_) return Status::ok();
  RUSTLOG_RETURN_IF_ERROR(trim());
  if (index_files_stale_) RUSTLOG_RETURN_IF_ERROR(write_indexes_atomically());
  index_file_.close();
  time_index_file_.close();
  sealed_ = true;
  if (cache_) cache_->touch_open(this);
  return Status::ok();
}

Result<BatchLocation> Segment::locate(uint64_t offset) {
  if (offset >= next_offset_)
    return Status(ErrorCode::kOffsetOutOfRange, "offset " + std::to_string(offset) +
                                                    " is past the end of segment " +
                                                    std::to_string(base_));
  const uint32_t rel = static_cast<uint32_t>(
      std::min<uint64_t>(offset > base_ ? offset - base_ : 0, UINT32_MAX));
  const size_t count = oi_.count_at_or_below(rel);
  const uint64_t pos = count ? oi_.pos_at(count - 1) : 0;
  const uint64_t min_next = count ? base_ + oi_.rel_at(count - 1) : base_;
  Bytes src(*this);
  if (count > 0 && !index_repaired_) {
    // The entry is checked when used: it must point at a batch header with
    // its offset (the walk below checks that batch's CRC: damage there is
    // the log's and is reported as such). Anything else means the entry is
    // wrong, and the index, not the log, is repaired.
    BatchHeader h;
    const uint8_t* unused = nullptr;
    Status io;
    const BatchError e =
        BatchScanner::check_at(src, pos, min_next, /*exact=*/true, base_, /*check_crc=*/false, &h, &unused, &io);
    RUSTLOG_RETURN_IF_ERROR(io);
    if (e != BatchError::kOk) {
      RUSTLOG_RETURN_IF_ERROR(repair_indexes_after_bad_entry(
          "entry for offset " + std::to_string(min_next) + " at byte " + std::to_string(pos) +
          " does not point at that batch"));
      return locate(offset);
    }
  }
  // CRC-checked: a damaged length or last-offset field must not steer the
  // walk past (or onto) the batches after it.
  const IndexAnchors anchors(oi_, base_);
  BatchScanner sc(src, scan_start(pos, min_next, /*exact_first=*/count > 0, &anchors));
  ScanEvent ev;
  while (sc.next(&ev, OnFault::kResync)) {
    if (ev.kind == ScanKind::kTornTail) return corrupt(ev);
    if (ev.kind == ScanKind::kCorrupt) {
      if (ev.resume_header.base_offset > offset) return corrupt(ev);
      continue;  // the next event is the batch it resumes at
    }
    if (ev.header.last_offset() >= offset) return BatchLocation{ev.position, ev.header};
  }
  RUSTLOG_RETURN_IF_ERROR(sc.status());
  return Status(ErrorCode::kOffsetOutOfRange, "offset " + std::to_string(offset) +
                                                  " not found in segment " + std::to_string(base_));
}

Status Segment::read_batches(const BatchLocation& start, const ReadLimits& limits, std::string& out,
                             uint64_t* next_offset) {
  // One allocation for what this call can return (max_bytes, bounded by the
  // bytes left in the segment) instead of regrowing `out` batch by batch,
  // which copied everything appended so far again on each growth.
  if (start.position < size_)
    out.reserve(out.size() +
                static_cast<size_t>(std::min<uint64_t>(limits.max_bytes, size_ - start.position)));
  size_t unused = 0;
  return visit_batches(
      start, limits, [&out](std::string_view b, const BytesPin&) { out.append(b); }, next_offset, &unused);
}

namespace {
const BytesPin kUnpinned;
}  // namespace

Status Segment::visit_batches(const BatchLocation& start, const ReadLimits& limits, const BatchVisitor& visit,
                              uint64_t* next_offset, size_t* bytes) {
  Bytes src(*this);
  // Offsets only grow: a batch that goes back (its base offset, outside
  // the CRC, was damaged) is not returned.
  const IndexAnchors anchors(oi_, base_);
  ScanStart from = scan_start(start.position, start.header.base_offset, false, &anchors);
  from.proven_start = true;  // locate() walked there
  BatchScanner sc(src, from);
  ScanEvent ev;
  bool first = true;
  size_t taken = 0;
  // Only a fault in the first batch is an error (and needs the resync that
  // names the unreadable range); a later one just ends the read.
  while (sc.next(&ev, first ? OnFault::kResync : OnFault::kStop)) {
    if (ev.kind != ScanKind::kBatch) {
      if (first) return corrupt(ev);
      break;
    }
    const size_t n = ev.header.total_size();
    if (ev.header.base_offset >= limits.max_offset) break;
    if (first ? n > limits.first_batch_max : taken + n > limits.max_bytes) break;
    // Pinned when it lies in the mapping (a sealed segment), not in the
    // read buffer of the active one.
    const bool mapped = map_ && ev.bytes >= map_base_ && ev.bytes + n <= map_base_ + map_len_;
    visit(std::string_view(reinterpret_cast<const char*>(ev.bytes), n), mapped ? map_ : kUnpinned);
    taken += n;
    *bytes = taken;
    *next_offset = ev.header.next_offset();
    first = false;
    if (taken >= limits.max_bytes) break;
  }
  return sc.status();
}

Result<std::optional<uint64_t>> Segment::offset_for_time(int64_t ts) {
  if (size_ == 0 || max_ts_ < ts) return std::optional<uint64_t>();
  // The time-index entry the scan starts from is checked when first used:
  // a wrong one would skip records that are new enough.
  const size_t n = ti_.count_below(ts);
  if (n > 0 && n - 1 < time_entry_unchecked_.size() && time_entry_unchecked_[n - 1]) {
    auto holds = time_entry_holds(n - 1);
    if (!holds) return holds.status();
    if (holds->has_value() && !**holds && !index_repaired_) {
      RUSTLOG_RETURN_IF_ERROR(repair_indexes_after_bad_entry(
          "time index entry " + std::to_string(n - 1) + " (timestamp " + std::to_string(ti_.ts_at(n - 1)) +
          ", offset " + std::to_string(base_ + ti_.rel_at(n - 1)) + ") does not match the log"));
      return offset_for_time(ts);
    }
    if (holds->has_value()) time_entry_unchecked_[n - 1] = false;
  }
  const uint32_t rel = n == 0 ? 0 : ti_.rel_at(n - 1);
  auto loc = locate(base_ + rel);
  if (!loc) return loc.status();
  Bytes src(*this);
  const IndexAnchors anchors(oi_, base_);
  ScanStart from = scan_start(loc->position, loc->header.base_offset, false, &anchors);
  from.proven_start = true;  // locate() walked there
  BatchScanner sc(src, from);
  ScanEvent ev;
  std::vector<Record> recs;
  while (sc.next(&ev, OnFault::kResync)) {
    if (ev.kind != ScanKind::kBatch) return corrupt(ev);
    if (ev.header.max_timestamp < ts) continue;
    recs.clear();
    RUSTLOG_RETURN_IF_ERROR(decode_batch(ev.bytes, ev.header.total_size(), nullptr, &recs));
    for (const auto& r : recs)
      if (r.timestamp_us >= ts) return std::optional<uint64_t>(r.offset);
  }
  RUSTLOG_RETURN_IF_ERROR(sc.status());
  return std::optional<uint64_t>();
}

Status Segment::rename_to_deleted() {
  for (const auto& p : {log_path(), index_path(), time_index_path()}) {
    if (!path_exists(p)) continue;  // an index that was never written
    RUSTLOG_RETURN_IF_ERROR(rename_path(p, p + kSegmentDeletedSuffix));
    // A compaction swap gives the old name to the cleaned segment next.
    if (p == log_path()) renamed_ = true;
  }
  return Status::ok();
}

Status Segment::unlink_deleted() {
  if (cache_) cache_->forget(this);
  unmap();
  log_.close();
  index_file_.close();
  time_index_file_.close();
  for (const auto& p : {log_path(), index_path(), time_index_path()}) {
    RUSTLOG_RETURN_IF_ERROR(remove_file(p + kSegmentDeletedSuffix));
  }
  return Status::ok();
}

Status Segment::remove_files() {
  if (cache_) cache_->forget(this);
  unmap();
  log_.close();
  index_file_.close();
  time_index_file_.close();
  for (const auto& p : {log_path(), index_path(), time_index_path()})
    RUSTLOG_RETURN_IF_ERROR(remove_file(p));
  return Status::ok();
}

}  // namespace rustlog
