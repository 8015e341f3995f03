#include "admin/dump.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>

#include "storage/batch_scanner.h"
#include "storage/file.h"
#include "storage/segment.h"

namespace rustlog::admin {
namespace {

// A read-only private mapping of a whole file: the dump never writes, and
// unlike Segment::open it needs no write permission on the file.
class ReadOnlyMapping {
 public:
  ~ReadOnlyMapping() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  Status open(const std::string& path) {
    auto f = File::open(path, O_RDONLY);
    if (!f) return f.status();
    struct stat st;
    if (::fstat(f->fd(), &st) != 0) return io_error("cannot stat", path, errno);
    if (!S_ISREG(st.st_mode))
      return Status(ErrorCode::kInvalidRequest, path + ": not a regular file");
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ == 0) return Status::ok();
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, f->fd(), 0);
    if (m == MAP_FAILED) return io_error("cannot map", path, errno);
    data_ = static_cast<const uint8_t*>(m);
    return Status::ok();
  }
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

// Why the scanner refused the bytes at a fault (`left` bytes to the end).
std::string fault_reason(const ScanEvent& ev, uint64_t left, uint64_t segment_base,
                         const uint8_t* bytes) {
  const BatchHeader& h = ev.header;
  switch (ev.reason) {
    case BatchError::kShortHeader:
      return "only " + std::to_string(left) + " bytes left, fewer than a " +
             std::to_string(kBatchHeaderSize) + "-byte batch header (torn write)";
    case BatchError::kShortBatch:
      return "batch declares " + std::to_string(h.total_size()) + " bytes but only " +
             std::to_string(left) + " are left (torn write, or a damaged length field)";
    case BatchError::kBadLength:
      return "batch length " + std::to_string(h.batch_length) + " is out of range";
    case BatchError::kBadMagic:
      return "magic byte " + std::to_string(h.magic) + " (expected " + std::to_string(kBatchMagic) + ")";
    case BatchError::kBadHeader:
      return "impossible header fields (record count, offset delta or base offset)";
    case BatchError::kOffsetBackwards:
    case BatchError::kOffsetMismatch:
      return "batch base offset " + std::to_string(h.base_offset) +
             " goes backwards (expected at least " + std::to_string(ev.first_offset) + ")";
    case BatchError::kOutsideSegment:
      return "batch offsets " + std::to_string(h.base_offset) + ".." + std::to_string(h.last_offset()) +
             " do not belong to the segment based at " + std::to_string(segment_base);
    case BatchError::kCrcMismatch:
      // After a CRC mismatch the length field is not trusted either.
      return "CRC mismatch in the batch claiming offsets " + std::to_string(h.base_offset) + ".." +
             std::to_string(h.last_offset()) + " (stored " + hex32(h.crc) + ", computed " +
             hex32(compute_batch_crc(bytes, h.total_size())) + ")";
    case BatchError::kBadRecords:
      return "the records of the batch claiming offsets " + std::to_string(h.base_offset) + ".." +
             std::to_string(h.last_offset()) + " do not match its header (its CRC matches)";
    case BatchError::kOk: break;
  }
  return batch_error_name(ev.reason);
}

}  // namespace

Result<DumpSummary> walk_segment(const std::string& log_path, const DumpOptions& options,
                                 const DumpVisitor& visitor) {
  ReadOnlyMapping file;
  RUSTLOG_RETURN_IF_ERROR(file.open(log_path));
  DumpSummary summary;
  summary.path = log_path;
  summary.file_bytes = file.size();
  summary.base_offset =
      Segment::parse_log_file_name(std::filesystem::path(log_path).filename().string());
  const uint64_t segment_base = summary.base_offset.value_or(0);

  auto report = [&](const ScanEvent& ev) {
    DumpProblem pr;
    pr.position = ev.position;
    pr.first_offset = ev.first_offset;
    std::string& m = pr.message;
    m = log_path + ": byte " + std::to_string(ev.position) + ": " +
        fault_reason(ev, file.size() - ev.position, segment_base, file.data() + ev.position);
    if (ev.kind == ScanKind::kCorrupt) {
      const BatchHeader& next = ev.resume_header;
      pr.resume_position = ev.resume_position;
      pr.resume_offset = next.base_offset;
      if (next.base_offset > ev.first_offset)
        m += "; offsets " + std::to_string(ev.first_offset) + ".." +
             std::to_string(next.base_offset - 1) + " are unreadable";
      else
        m += "; no offsets are missing";
      m += "; the next valid batch is at byte " + std::to_string(ev.resume_position) + " (offset " +
           std::to_string(next.base_offset) + ")";
    } else {
      m += "; offsets from " + std::to_string(ev.first_offset) +
           " on are unreadable: no valid batch follows before the end of the file (byte " +
           std::to_string(file.size()) + ")";
    }
    ++summary.problems;
    if (visitor.on_problem) visitor.on_problem(pr);
  };

  MemoryBytes bytes(file.data(), file.size());
  // Resynchronisation after damage resumes only at proven batch starts: the
  // segment's offset-index entries (each checked) or the damaged batch's own
  // length confirmed by what follows (batch_scanner.h), as the broker does.
  OffsetIndex claimed;
  if (log_path.size() > 4 && log_path.compare(log_path.size() - 4, 4, ".log") == 0) {
    const std::string index_path = log_path.substr(0, log_path.size() - 4) + ".index";
    if (path_exists(index_path))
      if (auto ib = read_file(index_path))
        if (auto oi = OffsetIndex::parse(*ib)) claimed = std::move(*oi);
  }
  const IndexAnchors anchors(claimed, segment_base);
  BatchScanner sc(bytes, ScanStart{.position = 0,
                                   .next_offset = segment_base,
                                   .segment_base = segment_base,
                                   .anchors = &anchors});
  ScanEvent ev;
  std::vector<Record> scratch;
  uint64_t expected = segment_base;  // where the previous valid batch ended
  summary.end_position = file.size();
  while (true) {
    if (summary.batches >= options.max_batches && sc.position() < file.size()) {
      summary.limited = true;
      summary.end_position = sc.position();
      break;
    }
    if (!sc.next(&ev, OnFault::kResync)) break;
    const BatchHeader& h = ev.header;
    if (ev.kind != ScanKind::kBatch) {
      if (ev.reason == BatchError::kCrcMismatch) {  // listed, then reported
        DumpedBatch b;
        b.position = ev.position;
        b.header = h;
        b.computed_crc = compute_batch_crc(file.data() + ev.position, h.total_size());
        ++summary.batches;
        if (visitor.on_batch) visitor.on_batch(b);
      }
      report(ev);
      if (ev.kind == ScanKind::kTornTail) break;
      continue;
    }
    DumpedBatch b;
    b.position = ev.position;
    b.header = h;
    b.computed_crc = h.crc;
    b.crc_ok = true;
    b.gap_before = h.base_offset > expected ? h.base_offset - expected : 0;
    expected = h.next_offset();
    scratch.clear();
    Status st = decode_batch(ev.bytes, h.total_size(), nullptr, options.records ? &b.records : &scratch);
    if (!st) {
      b.decode_error = st.message();
      b.records.clear();
    }
    ++summary.batches;
    if (visitor.on_batch) visitor.on_batch(b);
    summary.records += h.record_count;
    if (!b.decode_error.empty()) {
      // The CRC vouches for the bytes, so the length is trusted and the
      // walk goes on; the records themselves were written malformed.
      DumpProblem pr;
      pr.position = ev.position;
      pr.resume_position = ev.position + h.total_size();
      pr.first_offset = h.base_offset;
      pr.resume_offset = h.next_offset();
      pr.message = log_path + ": byte " + std::to_string(ev.position) + ": " + b.decode_error;
      ++summary.problems;
      if (visitor.on_problem) visitor.on_problem(pr);
    }
  }
  RUSTLOG_RETURN_IF_ERROR(sc.status());
  if (auto z = sc.zero_tail()) summary.zero_tail_bytes = file.size() - *z;
  return summary;
}

Result<SegmentDump> dump_segment(const std::string& log_path, const DumpOptions& options) {
  SegmentDump out;
  DumpVisitor v;
  v.on_batch = [&](const DumpedBatch& b) { out.batches.push_back(b); };
  v.on_problem = [&](const DumpProblem& p) { out.problems.push_back(p); };
  auto s = walk_segment(log_path, options, v);
  if (!s) return s.status();
  out.summary = std::move(*s);
  return out;
}

}  // namespace rustlog::admin
