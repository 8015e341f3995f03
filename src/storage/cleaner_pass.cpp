#include "storage/cleaner_pass.h"

#include <algorithm>

#include "storage/cleaner_checkpoint.h"
#include "storage/record_view.h"

namespace rustlog {

namespace {
constexpr size_t kSlotsPerBudgetByte = 1;  // map preparation: one slot per budget byte a step

Status corrupt_at(const PartitionLog& log, const Segment& s, const ScanEvent& ev) {
  return Status(ErrorCode::kCorruptRecord, "cleaner: " + std::string(batch_error_name(ev.reason)) + " at byte " +
                                               std::to_string(ev.position) + " of " + s.log_path() + " in " +
                                               log.dir() + " (first unreadable offset " +
                                               std::to_string(ev.first_offset) + ")");
}
}  // namespace

std::vector<SegmentShape> segment_shapes(const PartitionLog& log) {
  std::vector<SegmentShape> v;
  v.reserve(log.segments().size());
  for (const auto& s : log.segments()) v.push_back({s->base_offset(), s->size_bytes(), s->last_append_us()});
  return v;
}

CleanerPass::CleanerPass(PartitionLog* log, CleanerKeyMap* map, uint64_t buffer_bytes, const DirtyRange& range,
                         int64_t start_us)
    : log_(log), map_(map), range_(range), start_us_(start_us) {
  // No more keys than records: every record takes at least 7 bytes.
  map_->reset(buffer_bytes, range.cleanable_bytes / 7 + 1);
}

CleanerPass::~CleanerPass() { abandon(); }

void CleanerPass::abandon() {
  if (writer_) writer_->abandon();
  writer_.reset();
}

std::optional<size_t> CleanerPass::find_segment(uint64_t base) const {
  const auto& segs = log_->segments();
  auto it = std::lower_bound(segs.begin(), segs.end(), base,
                             [](const auto& s, uint64_t b) { return s->base_offset() < b; });
  if (it == segs.end() || (*it)->base_offset() != base) return std::nullopt;
  return static_cast<size_t>(it - segs.begin());
}

std::optional<size_t> CleanerPass::whole_group(const SegmentGroup& g) const {
  // Every segment of the group still in the log, in order, and sealed.
  const auto& segs = log_->segments();
  auto first = find_segment(g.bases.front());
  bool whole = first.has_value() && *first + g.bases.size() < segs.size();
  for (size_t k = 0; whole && k < g.bases.size(); ++k) whole = segs[*first + k]->base_offset() == g.bases[k];
  return whole ? first : std::nullopt;
}

Status CleanerPass::step(uint64_t budget, CleanerStep* out, CleanerCounters* c) {
  if (log_->read_only()) return log_->fatal_error();
  switch (phase_) {
    case Phase::kPrepareMap:
      if (map_->prepare(static_cast<size_t>(std::max<uint64_t>(budget * kSlotsPerBudgetByte / CleanerKeyMap::kSlotBytes, 1)))) {
        phase_ = Phase::kBuildMap;
        map_end_ = range_.first_dirty;
        seg_ = UINT64_MAX;  // found on the first build step
      }
      out->bytes += std::min<uint64_t>(budget, map_->memory_bytes());
      return Status::ok();
    case Phase::kBuildMap: return build_map(budget, out, c);
    case Phase::kClean: return clean(budget, out, c);
    case Phase::kCheckpoint:
      RUSTLOG_RETURN_IF_ERROR(write_cleaner_checkpoint(log_->dir(), map_end_));
      phase_ = Phase::kDone;
      return Status::ok();
    case Phase::kDone: return Status::ok();
  }
  return Status::ok();
}

Status CleanerPass::build_map(uint64_t budget, CleanerStep* out, CleanerCounters* c) {
  const auto& segs = log_->segments();
  std::optional<size_t> idx;
  if (seg_ != UINT64_MAX) idx = find_segment(seg_);
  if (!idx) {
    // First step, or retention deleted the segment being scanned: go on
    // from the first segment holding offsets at or after the cursor.
    const uint64_t from = std::max(map_end_, log_->log_start_offset());
    size_t i = 0;
    while (i + 1 < segs.size() && segs[i + 1]->base_offset() <= from) ++i;
    idx = i;
    Segment& s = *segs[i];
    seg_ = s.base_offset();
    pos_ = 0;
    next_ = seg_;
    if (from > seg_ && from < s.next_offset()) {
      auto loc = s.locate(from);
      if (!loc) return loc.status();
      pos_ = loc->position;
      next_ = loc->header.base_offset;
    }
  }
  uint64_t used = 0;
  bool full = false;
  while (used < budget && !full) {
    Segment& s = *segs[*idx];
    if (s.base_offset() >= range_.first_uncleanable || *idx + 1 >= segs.size()) {
      map_end_ = range_.first_uncleanable;
      break;
    }
    Segment::Bytes src(s);
    BatchScanner sc(src, ScanStart{.position = pos_, .next_offset = next_, .segment_base = s.base_offset()});
    ScanEvent ev;
    while (used < budget && sc.next(&ev, OnFault::kStop)) {
      if (ev.kind != ScanKind::kBatch) return corrupt_at(*log_, s, ev);
      const size_t n = ev.header.total_size();
      RecordWalker w(std::string_view(reinterpret_cast<const char*>(ev.bytes), n), /*check_crc=*/false);
      RecordView r;
      while (w.next(&r)) {
        if (r.offset < range_.first_dirty || r.key_len < 0) continue;
        if (!map_->put(*r.key(), r.offset)) {
          full = true;
          map_end_ = r.offset;
          break;
        }
      }
      if (full) break;
      RUSTLOG_RETURN_IF_ERROR(w.status());
      used += n;
      pos_ = sc.position();
      next_ = sc.next_offset();
      map_end_ = next_;
    }
    RUSTLOG_RETURN_IF_ERROR(sc.status());
    if (full || used >= budget) break;
    // The segment is done: on to the next one.
    if (*idx + 1 >= segs.size()) break;
    idx = *idx + 1;
    seg_ = segs[*idx]->base_offset();
    pos_ = 0;
    next_ = seg_;
    map_end_ = std::max(map_end_, seg_);
  }
  out->bytes += used;
  c->bytes_read += used;
  const bool reached_end = segs[*idx]->base_offset() >= range_.first_uncleanable;
  if (!full && !reached_end) return Status::ok();
  if (reached_end) map_end_ = range_.first_uncleanable;
  // The map covers [first dirty, map_end_): recopy every segment below it.
  groups_ = group_segments(segment_shapes(*log_), map_end_, log_->config().segment_bytes);
  group_ = 0;
  member_ = 0;
  seg_ = UINT64_MAX;
  phase_ = groups_.empty() ? Phase::kCheckpoint : Phase::kClean;
  return Status::ok();
}

Status CleanerPass::clean(uint64_t budget, CleanerStep* out, CleanerCounters* c) {
  const auto& segs = log_->segments();
  uint64_t used = 0;
  while (used < budget && swap_ == Swap::kNone) {
    if (group_ >= groups_.size()) {
      phase_ = Phase::kCheckpoint;
      break;
    }
    const SegmentGroup& g = groups_[group_];
    // Retention may have deleted some of the group since the last step:
    // then the group is given up.
    auto first = whole_group(g);
    if (!first) {
      abandon();
      ++group_;
      member_ = 0;
      continue;
    }
    if (!writer_) {
      auto w = CleanedSegmentWriter::create(log_->dir(), g.bases.front(), log_->config().index_interval_bytes);
      if (!w) return w.status();
      writer_.emplace(std::move(*w));
      member_ = 0;
      pos_ = 0;
      next_ = g.bases.front();
      any_src_ = false;
    }
    if (member_ >= g.bases.size()) {
      RUSTLOG_RETURN_IF_ERROR(finish_group(out, c));  // waits for the files' fsync
      continue;
    }
    Segment& s = *segs[*first + member_];
    Segment::Bytes src(s);
    BatchScanner sc(src, ScanStart{.position = pos_, .next_offset = next_, .segment_base = s.base_offset()});
    ScanEvent ev;
    while (used < budget && sc.next(&ev, OnFault::kStop)) {
      if (ev.kind != ScanKind::kBatch) return corrupt_at(*log_, s, ev);
      uint64_t written = 0;
      RUSTLOG_RETURN_IF_ERROR(filter_batch(ev, c, &written));
      used += ev.header.total_size() + written;
      c->bytes_read += ev.header.total_size();
      c->bytes_written += written;
      last_src_ = ev.header;
      any_src_ = true;
      pos_ = sc.position();
      next_ = sc.next_offset();
    }
    RUSTLOG_RETURN_IF_ERROR(sc.status());
    if (pos_ >= s.size_bytes()) {
      ++member_;
      pos_ = 0;
      if (member_ < g.bases.size()) next_ = g.bases[member_];
    }
  }
  out->bytes += used;
  return Status::ok();
}

Status CleanerPass::filter_batch(const ScanEvent& ev, CleanerCounters* c, uint64_t* written) {
  const BatchHeader& h = ev.header;
  const size_t n = h.total_size();
  // An empty batch inside a group holds nothing; the group's last one is
  // written again by finish_group when the group needs it.
  if (h.record_count == 0) return Status::ok();
  const std::string_view bytes(reinterpret_cast<const char*>(ev.bytes), n);
  const bool horizon_passed = h.has_delete_horizon() && h.first_timestamp <= start_us_;
  std::vector<Record> kept;
  bool dropped = false, tombstone_kept = false;
  RecordWalker w(bytes, /*check_crc=*/false);
  RecordView r;
  while (w.next(&r)) {
    bool keep = true;
    if (r.key_len >= 0) {
      auto latest = map_->get(*r.key());
      if (latest && *latest > r.offset) {
        keep = false;
      } else if (r.value_len < 0 && horizon_passed) {
        keep = false;
        ++c->tombstones_removed;
      }
    }
    if (!keep) {
      dropped = true;
      ++c->records_removed;
      continue;
    }
    if (r.value_len < 0) tombstone_kept = true;
    kept.push_back(to_record(r));
  }
  RUSTLOG_RETURN_IF_ERROR(w.status());
  // Unchanged (and any tombstone already carries its horizon): the bytes as they are.
  if (!dropped && (!tombstone_kept || h.has_delete_horizon())) {
    *written = n;
    return writer_->append(bytes, h);
  }
  if (kept.empty()) return Status::ok();
  BatchBuilder b(h.base_offset);
  // A tombstone kept for the first time gets its horizon: this pass's start
  // plus delete.retention.ms; one kept again keeps the horizon it has.
  if (tombstone_kept)
    b.set_delete_horizon(h.has_delete_horizon() ? h.first_timestamp
                                                : start_us_ + log_->config().compaction.delete_retention_ms * 1000);
  for (const auto& rec : kept) b.add_with_offset(rec);
  // Kept records stay compressed as they were (the codec's default level:
  // the producer's is not recorded).
  std::string out = b.finish({codec_from_bits(h.attributes & kBatchCompressionMask).value_or(Codec::kNone), 0});
  BatchHeader oh;
  if (parse_batch_header(reinterpret_cast<const uint8_t*>(out.data()), out.size(), &oh) != BatchError::kOk)
    return Status(ErrorCode::kInternal, "cleaner built an invalid batch at offset " + std::to_string(h.base_offset));
  *written = out.size();
  return writer_->append(out, oh);
}

Status CleanerPass::finish_group(CleanerStep* /*out*/, CleanerCounters* c) {
  // The group's last batch keeps its last offset (an empty batch when all
  // its records went): the group still ends where its originals ended.
  if (any_src_ && writer_->next_offset() < last_src_.next_offset()) {
    const std::string e = encode_empty_batch(last_src_.last_offset(), 0, last_src_.max_timestamp,
                                             last_src_.max_timestamp);
    BatchHeader eh;
    (void)parse_batch_header(reinterpret_cast<const uint8_t*>(e.data()), e.size(), &eh);
    RUSTLOG_RETURN_IF_ERROR(writer_->append(e, eh));
    c->bytes_written += e.size();
  }
  const SegmentGroup& g = groups_[group_];
  auto first = find_segment(g.bases.front());
  if (!first) return Status(ErrorCode::kInternal, "cleaner lost the group at " + std::to_string(g.bases.front()));
  int64_t last_append = 0;
  for (size_t k = 0; k < g.bases.size(); ++k)
    last_append = std::max(last_append, log_->segments()[*first + k]->last_append_us());
  auto sync = writer_->finish_writes(last_append);
  if (!sync) return sync.status();
  disk_wait_ = std::move(*sync);
  swap_ = Swap::kCleanedSync;
  return Status::ok();
}

std::optional<DiskWait> CleanerPass::take_disk_wait() {
  std::optional<DiskWait> w = std::move(disk_wait_);
  disk_wait_.reset();
  return w;
}

Status CleanerPass::resume(const Status& waited, CleanerStep* out, CleanerCounters* c) {
  const SegmentGroup& g = groups_[group_];
  switch (swap_) {
    case Swap::kNone: return Status(ErrorCode::kInternal, "cleaner resumed without a disk wait");
    case Swap::kCleanedSync: {
      RUSTLOG_RETURN_IF_ERROR(waited);  // the pass is abandoned: the .cleaned files go
      // Retention may have taken some of the group while the fsync ran:
      // then the group is given up, as in clean().
      auto first = whole_group(g);
      if (!first) {
        abandon();
        swap_ = Swap::kNone;
        ++group_;
        member_ = 0;
        return Status::ok();
      }
      writer_.reset();  // its files are the swap's now: swap_begin removes them on failure
      auto commit = log_->swap_begin(*first, g.bases.size());
      if (!commit) {
        swap_ = Swap::kNone;
        return commit.status();
      }
      disk_wait_ = std::move(*commit);
      swap_ = Swap::kCommitSync;
      return Status::ok();
    }
    case Swap::kCommitSync: {
      auto finish = log_->swap_commit(waited);
      if (!finish) {
        swap_ = Swap::kNone;
        return finish.status();
      }
      disk_wait_ = std::move(*finish);
      swap_ = Swap::kFinalSync;
      return Status::ok();
    }
    case Swap::kFinalSync:
      swap_ = Swap::kNone;
      RUSTLOG_RETURN_IF_ERROR(log_->swap_finish(waited));
      ++c->groups_swapped;
      c->segments_cleaned += g.bases.size();
      out->swapped = true;
      ++group_;
      member_ = 0;
      return Status::ok();
  }
  return Status::ok();
}

}  // namespace rustlog
