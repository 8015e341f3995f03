// Segment recovery and verification: checking the indexes on open, learning
// where the segment ends, validating batches (truncating a torn tail or
// skipping corrupt ranges by resynchronisation), rebuilding the indexes, and
// the full check behind `rustlog verify`. File I/O, append and reads are in
// segment.cpp.
#include "storage/segment.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

#include "storage/atomic_file.h"

namespace rustlog {

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
  if (oi) file_oi_ = *oi;
  if (!oi || !ti) return Status::ok();
  // Sanity checks (Kafka's, plus cross-checks between the two indexes).
  if (!oi->empty()) {
    const size_t last = oi->size() - 1;
    if (oi->pos_at(last) >= size_) return Status::ok();
    if (oi->pos_at(0) == 0 && interval_ > 0) return Status::ok();
    // The last entry must point at a batch starting at its offset.
    Bytes src(*this);
    BatchHeader h;
    const uint8_t* unused = nullptr;
    Status io;
    if (BatchScanner::check_at(src, oi->pos_at(last), base_ + oi->rel_at(last), /*exact=*/true, base_,
                               /*check_crc=*/false, &h, &unused, &io) != BatchError::kOk)
      return io;
    if (ti->empty() || ti->rel_at(0) != oi->rel_at(0)) return Status::ok();
  }
  for (size_t i = 0; i < ti->size(); ++i) {
    size_t k = oi->count_at_or_below(ti->rel_at(i));
    if (k == 0 || oi->rel_at(k - 1) != ti->rel_at(i)) return Status::ok();
  }
  oi_ = std::move(*oi);
  ti_ = std::move(*ti);
  time_entry_unchecked_.assign(ti_.size(), true);
  index_bad_ = false;
  return Status::ok();
}

Result<uint64_t> Segment::rewind_indexes_to(uint32_t rel, uint64_t* expected_base, bool* entry_bad) {
  *entry_bad = false;
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
    restart_indexes();
    *expected_base = base_;
    return uint64_t{0};
  }
  const size_t e = count - 1;
  const uint64_t pos = oi_.pos_at(e);
  const uint32_t rel_e = oi_.rel_at(e);
  const size_t t_le = ti_.first_at_or_after_offset(rel_e + 1);  // entries with rel <= rel_e
  // The scan regenerates that time entry from its own timestamp: one read
  // from the file is checked against the log first.
  if (t_le > 0 && t_le - 1 < time_entry_unchecked_.size() && time_entry_unchecked_[t_le - 1]) {
    auto holds = time_entry_holds(t_le - 1);
    if (!holds) return holds.status();
    if (holds->has_value() && !**holds) {
      restart_indexes();
      *expected_base = base_;
      *entry_bad = true;
      return uint64_t{0};
    }
  }
  const int64_t max_before = t_le > 0 ? ti_.ts_at(t_le - 1) : INT64_MIN;
  oi_.truncate_entries(e);
  ti_.truncate_entries(ti_.first_at_or_after_offset(rel_e));
  if (time_entry_unchecked_.size() > ti_.size()) time_entry_unchecked_.resize(ti_.size());
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
  bool entry_bad = false;
  auto rewound = rewind_indexes_to(UINT32_MAX, &expected, &entry_bad);
  if (!rewound) return rewound.status();
  if (entry_bad) {  // the rebuild (or the recovery scan) starts from the log's first byte
    index_bad_ = true;
    return Status::ok();
  }
  const uint64_t pos = *rewound;
  SegmentScanReport tail;  // not a recovery scan: only corruptions are reported
  const IndexAnchors anchors(loaded_oi, base_);
  RUSTLOG_RETURN_IF_ERROR(
      scan_from(scan_start(pos, expected, pos != 0, &anchors), kNeverTruncate, &tail, nullptr, nullptr));
  for (auto& c : tail.corruptions) report->corruptions.push_back(std::move(c));
  if (!(oi_ == loaded_oi) || !(ti_ == loaded_ti)) index_bad_ = true;
  return Status::ok();
}

void Segment::restart_indexes() {
  oi_.clear();
  ti_.clear();
  time_entry_unchecked_.clear();
  policy_.resume(0, oi_, ti_, INT64_MIN);
}

std::string Segment::corrupt_range(const ScanEvent& fault) const {
  const std::string where = "corrupt record batch in " + log_path() + ": offsets ";
  const uint64_t first = fault.first_offset;
  if (fault.kind == ScanKind::kCorrupt) {
    const uint64_t end = fault.resume_header.base_offset;
    return where + std::to_string(first) + ".." + std::to_string(end > first ? end - 1 : first) +
           " are unreadable; offsets from " + std::to_string(end) + " on can still be read";
  }
  // No valid batch follows in this segment. Once the log has told the
  // segment where the next one starts (extend_unreadable_tail), name it.
  if (next_offset_ > first)
    return where + std::to_string(first) + ".." + std::to_string(next_offset_ - 1) +
           " (the rest of this segment) are unreadable; reading resumes at offset " +
           std::to_string(next_offset_);
  return where + "from " + std::to_string(first) + " to the end of this segment are unreadable";
}

Status Segment::scan_from(const ScanStart& start, uint64_t truncate_from, SegmentScanReport* report,
                          uint64_t* batches, uint64_t* records) {
  tail_unreadable_ = false;
  if (start.position == 0) first_ts_ = INT64_MIN;
  next_offset_ = start.next_offset;
  Bytes src(*this);
  // Recovery, verify and index rebuilds keep only batches every reader can
  // decode: CRC and records (docs/STORAGE.md, section 10).
  ScanStart full = start;
  full.check_records = true;
  BatchScanner sc(src, full);
  ScanEvent ev;
  // At or above truncate_from the first fault ends the scan (no resync is
  // needed to cut there); below it the scan looks for where to resume.
  auto on_fault = [&] { return sc.next_offset() >= truncate_from ? OnFault::kStop : OnFault::kResync; };
  while (sc.next(&ev, on_fault())) {
    if (ev.kind == ScanKind::kTornTail && ev.first_offset >= truncate_from) {
      // The zero tail after a torn write (into preallocated space) was
      // never data: not counted.
      auto zeros = BatchScanner::zero_tail_length(src, ev.position);
      if (!zeros) return zeros.status();
      report->bytes_truncated += size_ - ev.position - *zeros;
      ++report->truncations;
      RUSTLOG_RETURN_IF_ERROR(ensure_open());
      RUSTLOG_RETURN_IF_ERROR(log_.truncate(ev.position));
      verified_.forget_from(ev.position);
      unmap();
      size_ = ev.position;
      file_end_ = ev.position;
      break;
    }
    if (ev.kind != ScanKind::kBatch) {
      if (ev.kind == ScanKind::kTornTail) {
        // Nothing valid follows: the segment ends here for reading purposes.
        tail_unreadable_ = true;
        // Those offsets below truncate_from were acknowledged: the log goes
        // on after them (reads of the range report it) instead of handing
        // them out again.
        if (truncate_from != kNeverTruncate && next_offset_ < truncate_from) next_offset_ = truncate_from;
      }
      report->corruptions.push_back(corrupt_range(ev));
      continue;
    }
    const BatchHeader& h = ev.header;
    if (ev.position == 0) first_ts_ = h.first_timestamp;
    index_in_memory(policy_.on_batch(static_cast<uint32_t>(h.base_offset - base_),
                                     static_cast<uint32_t>(ev.position),
                                     static_cast<uint32_t>(h.total_size()), h.max_timestamp));
    report->bytes_scanned += h.total_size();
    if (batches) ++*batches;
    if (records) *records += h.record_count;
    next_offset_ = h.next_offset();
  }
  RUSTLOG_RETURN_IF_ERROR(sc.status());
  // Rule Z: the data ends where the zeros begin; the file keeps them (the
  // active segment appends over them, a sealed one is trimmed).
  if (auto z = sc.zero_tail()) size_ = *z;
  max_ts_ = policy_.max_timestamp();
  if (first_ts_ == INT64_MIN && size_ > 0) {
    BatchHeader h;
    const uint8_t* unused = nullptr;
    Status io;
    if (BatchScanner::check_at(src, 0, base_, false, base_, /*check_crc=*/false, &h, &unused, &io) ==
        BatchError::kOk)
      first_ts_ = h.first_timestamp;
    RUSTLOG_RETURN_IF_ERROR(io);
  }
  return Status::ok();
}

Status Segment::recover_from(uint64_t from_offset, SegmentScanReport* report) {
  uint64_t expected = base_;
  uint64_t pos = 0;
  const OffsetIndex claimed = index_bad_ ? std::move(file_oi_) : oi_;  // before the rewind cuts it
  file_oi_.clear();
  const IndexAnchors anchors(claimed, base_);
  if (index_bad_) {
    restart_indexes();
  } else {
    const uint64_t rel = from_offset > base_ ? from_offset - base_ : 0;
    bool entry_bad = false;
    auto rewound = rewind_indexes_to(static_cast<uint32_t>(std::min<uint64_t>(rel, UINT32_MAX)), &expected,
                                     &entry_bad);
    if (!rewound) return rewound.status();
    pos = *rewound;
    if (entry_bad) index_bad_ = true;  // rescanned from byte 0, the files rewritten below
  }
  RUSTLOG_RETURN_IF_ERROR(
      scan_from(scan_start(pos, expected, pos != 0, &anchors), from_offset, report, nullptr, nullptr));
  if (size_ == 0) next_offset_ = base_;
  // What was validated may exist only in the page cache (a crash of a
  // process that never flushed): it must be synced before the recovery
  // point may claim it.
  RUSTLOG_RETURN_IF_ERROR(ensure_open());
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
  const OffsetIndex claimed = std::move(file_oi_);
  file_oi_.clear();
  if (!index_bad_) return Status::ok();
  restart_indexes();
  const IndexAnchors anchors(claimed, base_);
  RUSTLOG_RETURN_IF_ERROR(
      scan_from(scan_start(0, base_, false, &anchors), kNeverTruncate, report, nullptr, nullptr));
  report->index_rebuilt = true;
  index_bad_ = false;
  return write_indexes_atomically();
}

Status Segment::repair_indexes_after_bad_entry(const std::string& what) {
  index_repaired_ = true;
  // Rebuilt from the whole log as at open: damaged batches are reported and
  // skipped, nothing is cut. A read-only segment keeps the rebuild in memory.
  SegmentScanReport report;
  const uint64_t next = next_offset_;  // may reach past the bytes (an unreadable tail)
  const bool unreadable = tail_unreadable_;
  const OffsetIndex claimed = oi_;  // one entry is wrong: each is checked before use
  const IndexAnchors anchors(claimed, base_);
  restart_indexes();
  RUSTLOG_RETURN_IF_ERROR(
      scan_from(scan_start(0, base_, false, &anchors), kNeverTruncate, &report, nullptr, nullptr));
  next_offset_ = std::max(next_offset_, next);
  tail_unreadable_ = tail_unreadable_ || unreadable;
  Status st = writable_ ? write_indexes_atomically() : Status(ErrorCode::kStorageError, "opened read-only");
  if (!st) index_files_stale_ = true;  // rewritten on seal; the memory copy is right
  spdlog::error("{}: {}; rebuilt the indexes from the log{}", index_path(), what,
                st.is_ok() ? "" : " (in memory only: " + st.message() + ")");
  for (const auto& c : report.corruptions) spdlog::error("{}", c);
  return Status::ok();
}

Result<std::optional<bool>> Segment::time_entry_holds(size_t i) {
  // Entry i-1 (or the segment start) gives where to begin and the largest
  // timestamp before it; the policy's rule then says at which offset-index
  // entry the next time entry falls and with which timestamp.
  const uint32_t target_rel = ti_.rel_at(i);
  uint64_t pos = 0, expected = base_;
  int64_t max_ts = INT64_MIN;
  std::optional<int64_t> last_entry;
  if (i > 0) {
    const uint32_t r = ti_.rel_at(i - 1);
    const size_t k = oi_.count_at_or_below(r);
    if (k == 0 || oi_.rel_at(k - 1) != r) return std::optional<bool>(false);
    pos = oi_.pos_at(k - 1);
    expected = base_ + r;
    max_ts = ti_.ts_at(i - 1);
    last_entry = max_ts;
  }
  Bytes src(*this);
  BatchScanner sc(src, scan_start(pos, expected, /*exact_first=*/i > 0));
  ScanEvent ev;
  size_t k = oi_.first_at_or_after_position(pos);
  while (sc.next(&ev, OnFault::kStop)) {
    if (ev.kind != ScanKind::kBatch) return std::optional<bool>();  // the log is damaged: undecided
    const uint32_t rel = static_cast<uint32_t>(ev.header.base_offset - base_);
    while (k < oi_.size() && oi_.pos_at(k) < ev.position) ++k;
    if (k < oi_.size() && oi_.pos_at(k) == ev.position && ev.position != pos) {
      if (oi_.rel_at(k) != rel) return std::optional<bool>();  // the offset index is off: locate repairs it
      const bool due = max_ts != INT64_MIN && (!last_entry || max_ts > *last_entry);
      if (due || rel == target_rel) return std::optional<bool>(due && rel == target_rel && max_ts == ti_.ts_at(i));
    }
    if (rel >= target_rel) return std::optional<bool>(false);
    max_ts = std::max(max_ts, ev.header.max_timestamp);
  }
  RUSTLOG_RETURN_IF_ERROR(sc.status());
  return std::optional<bool>(false);
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
  std::vector<bool> loaded_unchecked = time_entry_unchecked_;
  // Resynchronisation trusts what the file claims only where the log agrees
  // (the same anchors as the broker's reads, which use the index files).
  auto file_oi = ib ? OffsetIndex::parse(*ib) : Result<OffsetIndex>(ib.status());
  const OffsetIndex claimed = file_oi ? std::move(*file_oi) : loaded_oi;
  const IndexAnchors anchors(claimed, base_);
  restart_indexes();
  ScanStart all = scan_start(0, base_, false, &anchors);
  all.verified = nullptr;  // every batch's CRC, whatever this process checked before
  Status st = scan_from(all, kNeverTruncate, report, batches, records);
  std::swap(oi_, loaded_oi);  // loaded_* now hold the indexes rebuilt from the log
  std::swap(ti_, loaded_ti);
  policy_ = loaded_policy;
  time_entry_unchecked_ = std::move(loaded_unchecked);
  RUSTLOG_RETURN_IF_ERROR(st);
  if (!ib || *ib != loaded_oi.serialize())
    report->corruptions.push_back(index_path() + ": differs from the index rebuilt from the log");
  if (!tb || *tb != loaded_ti.serialize())
    report->corruptions.push_back(time_index_path() +
                                  ": differs from the time index rebuilt from the log");
  return Status::ok();
}

void Segment::extend_unreadable_tail(uint64_t next_base) {
  if (tail_unreadable_ && next_base > next_offset_) next_offset_ = next_base;
}

}  // namespace rustlog
