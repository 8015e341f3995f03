#include "storage/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "storage/atomic_file.h"

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
    if (v > (std::numeric_limits<uint64_t>::max() - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return v;
}

Segment::Segment(std::string dir, uint64_t base, uint32_t interval, MmapCache* cache)
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
                                                 uint32_t interval, MmapCache* cache) {
  std::unique_ptr<Segment> s(new Segment(dir, base, interval, cache));
  auto log = File::open(s->log_path(), O_RDWR | O_CREAT | O_APPEND);
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
                                               uint32_t interval, MmapCache* cache,
                                               SegmentScanReport* report, bool writable) {
  std::unique_ptr<Segment> s(new Segment(dir, base, interval, cache));
  auto log = File::open(s->log_path(), writable ? (O_RDWR | O_APPEND) : O_RDONLY);
  if (!log) return log.status();
  s->log_ = std::move(*log);
  auto sz = s->log_.size();
  if (!sz) return sz.status();
  s->size_ = *sz;
  s->sealed_ = true;
  RUSTLOG_RETURN_IF_ERROR(s->load_indexes(report));
  if (!s->index_bad_) RUSTLOG_RETURN_IF_ERROR(s->scan_tail(report));
  return s;
}

Status Segment::activate() {
  unmap();
  if (cache_) cache_->forget(this);
  auto i = File::open(index_path(), O_WRONLY | O_CREAT | O_APPEND);
  if (!i) return i.status();
  auto t = File::open(time_index_path(), O_WRONLY | O_CREAT | O_APPEND);
  if (!t) return t.status();
  index_file_ = std::move(*i);
  time_index_file_ = std::move(*t);
  sealed_ = false;
  return Status::ok();
}

Status Segment::load_indexes(SegmentScanReport* report) {
  (void)report;
  index_bad_ = true;
  oi_.clear();
  ti_.clear();
  auto ib = read_file(index_path());
  auto tb = read_file(time_index_path());
  if (!ib || !tb) return Status::ok();  // missing: rebuild
  auto oi = OffsetIndex::parse(*ib);
  auto ti = TimeIndex::parse(*tb);
  if (!oi || !ti) return Status::ok();
  // Sanity checks (Kafka's, plus cross-checks between the two indexes).
  if (!oi->empty()) {
    const size_t last = oi->size() - 1;
    if (oi->pos_at(last) >= size_) return Status::ok();
    if (oi->pos_at(0) == 0 && interval_ > 0) return Status::ok();
    std::string buf;
    BatchLocation loc;
    if (read_batch_at(oi->pos_at(last), false, &loc, buf) != BatchState::kOk ||
        loc.header.base_offset != base_ + oi->rel_at(last))
      return Status::ok();
    if (ti->empty() || ti->rel_at(0) != oi->rel_at(0)) return Status::ok();
  }
  for (size_t i = 0; i < ti->size(); ++i) {
    size_t k = oi->count_at_or_below(ti->rel_at(i));
    if (k == 0 || oi->rel_at(k - 1) != ti->rel_at(i)) return Status::ok();
  }
  oi_ = std::move(*oi);
  ti_ = std::move(*ti);
  index_bad_ = false;
  return Status::ok();
}

uint64_t Segment::rewind_indexes_to(uint32_t rel, uint64_t* expected_base) {
  size_t count = oi_.count_at_or_below(rel);
  // Resume only at an entry that has a time entry too: the largest timestamp
  // before it is then known exactly. (A time index that lost its last
  // entries would otherwise resume the rule with a maximum that is too small.)
  while (count > 0) {
    const uint32_t r = oi_.rel_at(count - 1);
    const size_t t = ti_.first_at_or_after_offset(r);
    if (t < ti_.size() && ti_.rel_at(t) == r) break;
    --count;
  }
  if (count == 0) {
    oi_.clear();
    ti_.clear();
    policy_.resume(0, oi_, ti_, INT64_MIN);
    *expected_base = base_;
    return 0;
  }
  const size_t e = count - 1;
  const uint64_t pos = oi_.pos_at(e);
  const uint32_t rel_e = oi_.rel_at(e);
  const size_t t_le = ti_.first_at_or_after_offset(rel_e + 1);  // entries with rel <= rel_e
  const int64_t max_before = t_le > 0 ? ti_.ts_at(t_le - 1) : INT64_MIN;
  oi_.truncate_entries(e);
  ti_.truncate_entries(ti_.first_at_or_after_offset(rel_e));
  policy_.resume(pos, oi_, ti_, max_before);
  *expected_base = base_ + rel_e;
  return pos;
}

Status Segment::scan_tail(SegmentScanReport* report) {
  // Learn the end of the segment by regenerating, in memory, the index
  // entries after the last trustworthy one (about one index interval of
  // CRC-checked batches): when they differ from the loaded files, the files
  // lost entries (e.g. appends a crash never wrote) and get rebuilt.
  const OffsetIndex loaded_oi = oi_;
  const TimeIndex loaded_ti = ti_;
  uint64_t expected;
  const uint64_t pos = rewind_indexes_to(UINT32_MAX, &expected);
  SegmentScanReport tail;  // not a recovery scan: only corruptions are reported
  scanning_ = true;
  Status st = scan_from(pos, expected, pos != 0, /*truncate=*/false, &tail, nullptr, nullptr);
  scanning_ = false;
  RUSTLOG_RETURN_IF_ERROR(st);
  for (auto& c : tail.corruptions) report->corruptions.push_back(std::move(c));
  if (!(oi_ == loaded_oi) || !(ti_ == loaded_ti)) index_bad_ = true;
  return Status::ok();
}

Status Segment::ensure_mapped() {
  if (map_ == nullptr && size_ > 0) {
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, log_.fd(), 0);
    if (m == MAP_FAILED) return io_error("mmap failed on", log_path(), errno);
    map_ = static_cast<const uint8_t*>(m);
    map_len_ = size_;
  }
  if (cache_ && map_) cache_->touch(this);
  return Status::ok();
}

void Segment::unmap() {
  if (map_) ::munmap(const_cast<uint8_t*>(map_), map_len_);
  map_ = nullptr;
  map_len_ = 0;
}

Result<const uint8_t*> Segment::bytes_at(uint64_t pos, size_t n, std::string& buf) {
  if (pos + n > size_) return Status(ErrorCode::kInternal, "read past end of " + log_path());
  if (sealed_) {
    RUSTLOG_RETURN_IF_ERROR(ensure_mapped());
    if (map_ && pos + n <= map_len_) return map_ + pos;
  }
  if (buf.size() < n) buf.resize(n);
  RUSTLOG_RETURN_IF_ERROR(log_.pread_exact(buf.data(), n, pos));
  return reinterpret_cast<const uint8_t*>(buf.data());
}

Segment::BatchState Segment::read_batch_at(uint64_t pos, bool check_crc, BatchLocation* loc,
                                           std::string& buf) {
  if (pos >= size_) return BatchState::kEnd;
  const uint64_t avail = size_ - pos;
  const size_t hn = static_cast<size_t>(std::min<uint64_t>(avail, kBatchHeaderSize));
  auto hp = bytes_at(pos, hn, buf);
  if (!hp) return BatchState::kInvalid;
  BatchHeader& h = loc->header;
  if (parse_batch_header(*hp, static_cast<size_t>(std::min<uint64_t>(avail, SIZE_MAX)), &h) !=
      HeaderCheck::kOk)
    return BatchState::kInvalid;
  if (h.base_offset < base_ || h.last_offset() - base_ > std::numeric_limits<uint32_t>::max())
    return BatchState::kInvalid;
  loc->position = pos;
  if (check_crc) {
    auto bp = bytes_at(pos, h.total_size(), buf);
    if (!bp || !batch_crc_ok(*bp, h)) return BatchState::kInvalid;
  }
  return BatchState::kOk;
}

std::optional<BatchLocation> Segment::resync(uint64_t pos, uint64_t min_offset, std::string& buf) {
  for (uint64_t p = pos + 1; p + kBatchHeaderSize <= size_; ++p) {
    BatchLocation loc;
    if (read_batch_at(p, false, &loc, buf) != BatchState::kOk) continue;
    if (loc.header.base_offset < min_offset) continue;
    if (read_batch_at(p, true, &loc, buf) == BatchState::kOk) return loc;
  }
  return std::nullopt;
}

std::string Segment::corrupt_range(uint64_t first, std::optional<BatchLocation> next) const {
  const std::string where = "corrupt record batch in " + log_path() + ": offsets ";
  if (next) {
    const uint64_t end = next->header.base_offset;
    return where + std::to_string(first) + ".." + std::to_string(end > first ? end - 1 : first) +
           " are unreadable; offsets from " + std::to_string(end) + " on can still be read";
  }
  // No valid batch follows in this segment. Once the log has told the
  // segment where the next one starts (extend_unreadable_tail), name it.
  if (next_offset_ > first)
    return where + std::to_string(first) + ".." + std::to_string(next_offset_ - 1) +
           " (the rest of this segment) are unreadable; reading resumes at offset " +
           std::to_string(next_offset_) + " in the next segment";
  return where + "from " + std::to_string(first) + " to the end of this segment are unreadable";
}

Status Segment::append_index_entries(const IndexPolicy::Entry& e) {
  std::string ob, tb;
  if (e.offset) {
    oi_.add(e.offset->first, e.offset->second);
    OffsetIndex::serialize_entry(e.offset->first, e.offset->second, ob);
  }
  if (e.time) {
    ti_.add(e.time->first, e.time->second);
    TimeIndex::serialize_entry(e.time->first, e.time->second, tb);
  }
  if (sealed_ || scanning_ || index_files_stale_) return Status::ok();
  Status st = Status::ok();
  if (!ob.empty()) st = index_file_.write_all(ob);
  if (st && !tb.empty()) st = time_index_file_.write_all(tb);
  // The index is derived data: a failed write is repaired on seal or by
  // recovery, it never fails the append.
  if (!st) index_files_stale_ = true;
  return Status::ok();
}

Status Segment::scan_from(uint64_t pos, uint64_t expected_base, bool exact_base, bool truncate,
                          SegmentScanReport* report, uint64_t* batches, uint64_t* records) {
  std::string buf;
  uint64_t min_next = expected_base;
  tail_unreadable_ = false;
  if (pos == 0) first_ts_ = INT64_MIN;
  next_offset_ = expected_base;
  while (pos < size_) {
    BatchLocation loc;
    BatchState st = read_batch_at(pos, true, &loc, buf);
    const BatchHeader& h = loc.header;
    bool ok = st == BatchState::kOk &&
              (exact_base ? h.base_offset == min_next : h.base_offset >= min_next);
    if (!ok) {
      if (truncate) {
        report->bytes_truncated += size_ - pos;
        RUSTLOG_RETURN_IF_ERROR(log_.truncate(pos));
        unmap();
        size_ = pos;
        break;
      }
      auto next = resync(pos, min_next, buf);
      report->corruptions.push_back(corrupt_range(min_next, next));
      if (!next) {
        // Nothing valid follows: the segment ends here for reading purposes.
        tail_unreadable_ = true;
        break;
      }
      pos = next->position;
      exact_base = false;
      continue;
    }
    exact_base = false;
    if (pos == 0) first_ts_ = h.first_timestamp;
    RUSTLOG_RETURN_IF_ERROR(append_index_entries(policy_.on_batch(
        static_cast<uint32_t>(h.base_offset - base_), static_cast<uint32_t>(pos),
        static_cast<uint32_t>(h.total_size()), h.max_timestamp)));
    report->bytes_scanned += h.total_size();
    if (batches) ++*batches;
    if (records) *records += h.record_count;
    min_next = h.next_offset();
    next_offset_ = min_next;
    pos += h.total_size();
  }
  max_ts_ = policy_.max_timestamp();
  if (first_ts_ == INT64_MIN && size_ > 0) {
    BatchLocation loc;
    if (read_batch_at(0, false, &loc, buf) == BatchState::kOk) first_ts_ = loc.header.first_timestamp;
  }
  return Status::ok();
}

Status Segment::recover_from(uint64_t from_offset, SegmentScanReport* report) {
  uint64_t expected = base_;
  uint64_t pos = 0;
  if (index_bad_) {
    oi_.clear();
    ti_.clear();
    policy_.resume(0, oi_, ti_, INT64_MIN);
  } else {
    const uint64_t rel = from_offset > base_ ? from_offset - base_ : 0;
    pos = rewind_indexes_to(static_cast<uint32_t>(std::min<uint64_t>(rel, UINT32_MAX)), &expected);
  }
  scanning_ = true;  // index entries go to memory only while scanning
  Status st = scan_from(pos, expected, pos != 0, /*truncate=*/true, report, nullptr, nullptr);
  scanning_ = false;
  RUSTLOG_RETURN_IF_ERROR(st);
  if (size_ == 0) next_offset_ = base_;
  // What was validated may exist only in the page cache (a crash of a
  // process that never flushed): it must be synced before the recovery
  // point may claim it.
  dirty_ = true;
  // Swap in the regenerated indexes when they differ from the files.
  auto ib = read_file(index_path());
  auto tb = read_file(time_index_path());
  if (index_bad_ || !ib || !tb || *ib != oi_.serialize() || *tb != ti_.serialize()) {
    report->index_rebuilt = true;
    RUSTLOG_RETURN_IF_ERROR(write_indexes_atomically());
  }
  index_bad_ = false;
  return Status::ok();
}

Status Segment::rebuild_indexes_if_needed(SegmentScanReport* report) {
  if (!index_bad_) return Status::ok();
  oi_.clear();
  ti_.clear();
  policy_.resume(0, oi_, ti_, INT64_MIN);
  scanning_ = true;
  Status st = scan_from(0, base_, false, /*truncate=*/false, report, nullptr, nullptr);
  scanning_ = false;
  RUSTLOG_RETURN_IF_ERROR(st);
  report->index_rebuilt = true;
  index_bad_ = false;
  return write_indexes_atomically();
}

Status Segment::write_indexes_atomically() {
  RUSTLOG_RETURN_IF_ERROR(write_file_atomic(index_path(), oi_.serialize()));
  RUSTLOG_RETURN_IF_ERROR(write_file_atomic(time_index_path(), ti_.serialize()));
  index_files_stale_ = false;
  if (!sealed_) return activate();  // reopen the append handles on the new files
  return Status::ok();
}

Status Segment::verify(SegmentScanReport* report, uint64_t* batches, uint64_t* records) {
  // Each file is compared with the rebuild on its own: the rebuild is the
  // truth, so a file equal to it is fine whatever the other one looks like.
  auto ib = read_file(index_path());
  auto tb = read_file(time_index_path());
  OffsetIndex loaded_oi = oi_;
  TimeIndex loaded_ti = ti_;
  const IndexPolicy loaded_policy = policy_;
  oi_.clear();
  ti_.clear();
  policy_.resume(0, oi_, ti_, INT64_MIN);
  scanning_ = true;
  Status st = scan_from(0, base_, false, /*truncate=*/false, report, batches, records);
  scanning_ = false;
  std::swap(oi_, loaded_oi);  // loaded_* now hold the indexes rebuilt from the log
  std::swap(ti_, loaded_ti);
  policy_ = loaded_policy;
  RUSTLOG_RETURN_IF_ERROR(st);
  if (!ib || *ib != loaded_oi.serialize())
    report->corruptions.push_back(index_path() + ": differs from the index rebuilt from the log");
  if (!tb || *tb != loaded_ti.serialize())
    report->corruptions.push_back(time_index_path() +
                                  ": differs from the time index rebuilt from the log");
  return Status::ok();
}

Status Segment::append(std::string_view batch, const BatchHeader& h) {
  const IndexPolicy saved = policy_;
  const uint64_t pos = size_;
  auto e = policy_.on_batch(static_cast<uint32_t>(h.base_offset - base_), static_cast<uint32_t>(pos),
                            static_cast<uint32_t>(batch.size()), h.max_timestamp);
  Status st = log_.write_all(batch);
  if (!st) {
    policy_ = saved;
    // Cut any partial write back to the last whole batch.
    Status t = log_.truncate(pos);
    if (!t) return Status(ErrorCode::kStorageError, st.message() + "; and " + t.message());
    return st;
  }
  size_ += batch.size();
  dirty_ = true;
  if (pos == 0) first_ts_ = h.first_timestamp;
  next_offset_ = h.next_offset();
  max_ts_ = std::max(max_ts_, h.max_timestamp);
  return append_index_entries(e);
}

void Segment::extend_unreadable_tail(uint64_t next_base) {
  if (tail_unreadable_ && next_base > next_offset_) next_offset_ = next_base;
}

Status Segment::flush() {
  if (!dirty_) return Status::ok();
  RUSTLOG_RETURN_IF_ERROR(log_.datasync());
  dirty_ = false;
  return Status::ok();
}

Status Segment::seal() {
  if (sealed_) return Status::ok();
  if (index_files_stale_) RUSTLOG_RETURN_IF_ERROR(write_indexes_atomically());
  index_file_.close();
  time_index_file_.close();
  sealed_ = true;
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
  uint64_t pos = count ? oi_.pos_at(count - 1) : 0;
  uint64_t min_next = count ? base_ + oi_.rel_at(count - 1) : base_;
  std::string buf;
  while (true) {
    BatchLocation loc;
    // CRC-checked: a damaged length or last-offset field must not steer the
    // walk past (or onto) the batches after it.
    BatchState st = read_batch_at(pos, true, &loc, buf);
    if (st == BatchState::kEnd)
      return Status(ErrorCode::kOffsetOutOfRange, "offset " + std::to_string(offset) +
                                                      " not found in segment " +
                                                      std::to_string(base_));
    if (st == BatchState::kInvalid || loc.header.base_offset < min_next) {
      auto next = resync(pos, min_next, buf);
      if (!next || next->header.base_offset > offset)
        return Status(ErrorCode::kCorruptRecord, corrupt_range(min_next, next));
      loc = *next;
    }
    if (loc.header.last_offset() >= offset) return loc;
    min_next = loc.header.next_offset();
    pos = loc.position + loc.header.total_size();
  }
}

Status Segment::read_batches(const BatchLocation& start, size_t max_bytes, bool at_least_one,
                             std::string& out, uint64_t* next_offset) {
  std::string buf;
  uint64_t pos = start.position;
  bool first = true;
  size_t taken = 0;
  // One allocation for what this call can return (max_bytes, bounded by the
  // bytes left in the segment) instead of regrowing `out` batch by batch,
  // which copied everything appended so far again on each growth.
  if (pos < size_)
    out.reserve(out.size() + static_cast<size_t>(std::min<uint64_t>(max_bytes, size_ - pos)));
  while (pos < size_) {
    BatchLocation loc;
    // Offsets only grow: a batch that goes back (its base offset, outside
    // the CRC, was damaged) is not returned.
    if (read_batch_at(pos, true, &loc, buf) != BatchState::kOk ||
        (!first && loc.header.base_offset < *next_offset)) {
      if (!first) break;
      auto next = resync(pos, start.header.base_offset, buf);
      return Status(ErrorCode::kCorruptRecord, corrupt_range(start.header.base_offset, next));
    }
    const size_t n = loc.header.total_size();
    if ((!first || !at_least_one) && taken + n > max_bytes) break;
    auto bp = bytes_at(pos, n, buf);
    if (!bp) return bp.status();
    out.append(reinterpret_cast<const char*>(*bp), n);
    taken += n;
    *next_offset = loc.header.next_offset();
    pos += n;
    first = false;
    if (taken >= max_bytes) break;
  }
  return Status::ok();
}

Result<std::optional<uint64_t>> Segment::offset_for_time(int64_t ts) {
  if (size_ == 0 || max_ts_ < ts) return std::optional<uint64_t>();
  const uint32_t rel = ti_.scan_start(ts);
  auto loc = locate(base_ + rel);
  if (!loc) return loc.status();
  uint64_t pos = loc->position;
  std::string buf;
  std::vector<Record> recs;
  while (pos < size_) {
    BatchLocation b;
    if (read_batch_at(pos, true, &b, buf) != BatchState::kOk)
      return Status(ErrorCode::kCorruptRecord, corrupt_range(b.header.base_offset, resync(pos, 0, buf)));
    if (b.header.max_timestamp >= ts) {
      auto bp = bytes_at(pos, b.header.total_size(), buf);
      if (!bp) return bp.status();
      recs.clear();
      RUSTLOG_RETURN_IF_ERROR(decode_batch(*bp, b.header.total_size(), nullptr, &recs));
      for (const auto& r : recs)
        if (r.timestamp_us >= ts) return std::optional<uint64_t>(r.offset);
    }
    pos += b.header.total_size();
  }
  return std::optional<uint64_t>();
}

Status Segment::remove_files() {
  if (cache_) cache_->forget(this);
  unmap();
  log_.close();
  index_file_.close();
  time_index_file_.close();
  for (const auto& p : {log_path(), index_path(), time_index_path()})
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return io_error("cannot delete", p, errno);
  return Status::ok();
}

}  // namespace rustlog
