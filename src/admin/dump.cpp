#include "admin/dump.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "common/byte_order.h"
#include "common/crc32c.h"
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

// Why the header bytes at p (n available) do not start a whole batch. Called
// only after parse_batch_header refused them.
std::string header_problem(const uint8_t* p, uint64_t n, HeaderCheck check) {
  if (check == HeaderCheck::kIncomplete) {
    if (n < kBatchHeaderSize)
      return "only " + std::to_string(n) + " bytes left, fewer than a " +
             std::to_string(kBatchHeaderSize) + "-byte batch header (torn write)";
    const uint64_t total = kBatchLogOverhead + get_u32(p + kBatchLengthOffset);
    return "batch declares " + std::to_string(total) + " bytes but only " + std::to_string(n) +
           " are left (torn write, or a damaged length field)";
  }
  const uint32_t len = get_u32(p + kBatchLengthOffset);
  if (len < kBatchHeaderSize - kBatchLogOverhead || len > kMaxBatchBytes)
    return "batch length " + std::to_string(len) + " is out of range";
  if (n >= kBatchHeaderSize && p[12] != kBatchMagic)
    return "magic byte " + std::to_string(p[12]) + " (expected " + std::to_string(kBatchMagic) +
           ")";
  return "impossible header fields (record count, offset delta or base offset)";
}

struct Walker {
  const uint8_t* data;
  uint64_t size;
  uint64_t segment_base;

  // Mirrors Segment::read_batch_at's acceptance rule for a header at pos.
  bool header_ok(uint64_t pos, uint64_t min_next, BatchHeader* h) const {
    if (parse_batch_header(data + pos, size - pos, h) != HeaderCheck::kOk) return false;
    return h->base_offset >= min_next && h->base_offset >= segment_base &&
           h->last_offset() - segment_base <= std::numeric_limits<uint32_t>::max();
  }
  // Mirrors Segment::resync: the next position after pos holding a header
  // that parses, continues the offsets, and carries a valid CRC.
  std::optional<uint64_t> resync(uint64_t pos, uint64_t min_next, BatchHeader* h) const {
    for (uint64_t q = pos + 1; q + kBatchHeaderSize <= size; ++q)
      if (header_ok(q, min_next, h) && batch_crc_ok(data + q, *h)) return q;
    return std::nullopt;
  }
};

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
  const Walker w{file.data(), file.size(), summary.base_offset.value_or(0)};

  auto report = [&](uint64_t pos, uint64_t min_next, const std::string& why,
                    std::optional<uint64_t> resume, const BatchHeader& next) {
    DumpProblem pr;
    pr.position = pos;
    pr.first_offset = min_next;
    pr.resume_position = resume;
    std::string& m = pr.message;
    m = log_path + ": byte " + std::to_string(pos) + ": " + why;
    if (resume) {
      pr.resume_offset = next.base_offset;
      if (next.base_offset > min_next)
        m += "; offsets " + std::to_string(min_next) + ".." + std::to_string(next.base_offset - 1) +
             " are unreadable";
      else
        m += "; no offsets are missing";
      m += "; the next valid batch is at byte " + std::to_string(*resume) + " (offset " +
           std::to_string(next.base_offset) + ")";
    } else {
      m += "; offsets from " + std::to_string(min_next) +
           " on are unreadable: no valid batch follows before the end of the file (byte " +
           std::to_string(w.size) + ")";
    }
    ++summary.problems;
    if (visitor.on_problem) visitor.on_problem(pr);
  };

  uint64_t pos = 0;
  uint64_t min_next = w.segment_base;
  std::vector<Record> scratch;
  while (pos < w.size) {
    if (summary.batches >= options.max_batches) {
      summary.limited = true;
      break;
    }
    const uint8_t* p = w.data + pos;
    const uint64_t left = w.size - pos;
    BatchHeader h;
    std::string why;
    const HeaderCheck check = parse_batch_header(p, left, &h);
    if (check != HeaderCheck::kOk) {
      why = header_problem(p, left, check);
    } else if (h.base_offset < min_next) {
      why = "batch base offset " + std::to_string(h.base_offset) +
            " goes backwards (expected at least " + std::to_string(min_next) + ")";
    } else if (h.base_offset < w.segment_base ||
               h.last_offset() - w.segment_base > std::numeric_limits<uint32_t>::max()) {
      why = "batch offsets " + std::to_string(h.base_offset) + ".." +
            std::to_string(h.last_offset()) + " do not belong to the segment based at " +
            std::to_string(w.segment_base);
    } else {
      DumpedBatch b;
      b.position = pos;
      b.header = h;
      b.computed_crc = compute_batch_crc(p, h.total_size());
      b.crc_ok = b.computed_crc == h.crc;
      if (b.crc_ok) {
        scratch.clear();
        Status st = decode_batch(p, h.total_size(), nullptr, options.records ? &b.records : &scratch);
        if (!st) {
          b.decode_error = st.message();
          b.records.clear();
        }
      }
      ++summary.batches;
      if (visitor.on_batch) visitor.on_batch(b);
      if (b.crc_ok) {
        summary.records += h.record_count;
        if (!b.decode_error.empty()) {
          // The CRC vouches for the bytes, so the length is trusted and the
          // walk goes on; the records themselves were written malformed.
          DumpProblem pr;
          pr.position = pos;
          pr.resume_position = pos + h.total_size();
          pr.first_offset = h.base_offset;
          pr.resume_offset = h.next_offset();
          pr.message = log_path + ": byte " + std::to_string(pos) + ": " + b.decode_error;
          ++summary.problems;
          if (visitor.on_problem) visitor.on_problem(pr);
        }
        min_next = h.next_offset();
        pos += h.total_size();
        continue;
      }
      // After a CRC mismatch the length field is not trusted either.
      why = "CRC mismatch in the batch claiming offsets " + std::to_string(h.base_offset) + ".." +
            std::to_string(h.last_offset()) + " (stored " + hex32(h.crc) + ", computed " +
            hex32(b.computed_crc) + ")";
    }
    BatchHeader next;
    const auto resume = w.resync(pos, min_next, &next);
    report(pos, min_next, why, resume, next);
    if (!resume) {
      pos = w.size;
      break;
    }
    pos = *resume;
  }
  summary.end_position = pos;
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
