#pragma once
// Fuzz targets for the storage byte formats and recovery: the record batch
// decoder, the index file parsers, and recovery of a whole segment file.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "admin/verify.h"
#include "fuzz/fuzz_check.h"
#include "storage/batch_scanner.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "storage/segment_index.h"

namespace rustlog::fuzz {

// Input: one batch. Whatever decodes rebuilds (BatchBuilder, same offsets,
// timestamps, keys, values, headers) into a batch that decodes to the same
// records; the header parser and the full decoder agree on its size.
inline int fuzz_batch(const uint8_t* data, size_t size) {
  BatchHeader h;
  std::vector<Record> recs;
  const Status st = decode_batch(data, size, &h, &recs);
  if (!st) {
    FUZZ_CHECK(st.code() == ErrorCode::kCorruptRecord, "batch rejection is not CorruptRecord");
    return 0;
  }
  FUZZ_CHECK(h.total_size() == size, "decoded batch size differs from the input");
  FUZZ_CHECK(batch_crc_ok(data, h), "a batch that decodes fails its CRC");
  FUZZ_CHECK(recs.size() == h.record_count, "record count differs from the header");
  BatchBuilder b(h.base_offset);
  for (const auto& r : recs) b.add_with_offset(r);
  const std::string again = b.finish();
  BatchHeader h2;
  std::vector<Record> recs2;
  FUZZ_CHECK(decode_batch(reinterpret_cast<const uint8_t*>(again.data()), again.size(), &h2, &recs2).is_ok(),
             "a rebuilt batch does not decode");
  FUZZ_CHECK(recs2 == recs, "rebuilding a batch changed its records");
  std::vector<Record> all;
  FUZZ_CHECK(decode_batches(std::string_view(reinterpret_cast<const char*>(data), size), 0, &all).is_ok(),
             "decode_batches rejects a batch decode_batch accepts");
  FUZZ_CHECK(all == recs, "decode_batches and decode_batch disagree");
  return 0;
}

// Input: a segment's bytes. The scanner's events move forward through the
// bytes, every kBatch is a batch the full decoder accepts with offsets that
// keep growing, faults resume past where they start, and a scan that stops
// at the first fault yields exactly the batches before it.
inline int fuzz_batch_scanner(const uint8_t* data, size_t size) {
  MemoryBytes bytes(data, size);
  std::vector<uint64_t> resync_batches;
  std::optional<uint64_t> first_fault;
  {
    BatchScanner sc(bytes, ScanStart{0, 0, 0, false, true});
    ScanEvent ev;
    uint64_t pos = 0, next_offset = 0;
    while (sc.next(&ev, OnFault::kResync)) {
      FUZZ_CHECK(ev.position >= pos && ev.position <= size, "scanner went backwards or past the end");
      if (ev.kind == ScanKind::kBatch) {
        FUZZ_CHECK(ev.position + ev.header.total_size() <= size, "a batch runs past the bytes");
        FUZZ_CHECK(ev.header.base_offset >= next_offset, "batch offsets went backwards");
        // The scanner proves framing (header, length, CRC); the records
        // inside are the decoder's to check. A CRC-valid batch with a
        // malformed record (only a writer bug makes one: bit rot breaks the
        // CRC) is rejected by the decoder as corrupt, never served.
        std::vector<Record> recs;
        Status st = decode_batch(data + ev.position, ev.header.total_size(), nullptr, &recs);
        FUZZ_CHECK(st.is_ok() || st.code() == ErrorCode::kCorruptRecord,
                   "the decoder failed a scanned batch with something other than corruption");
        next_offset = ev.header.next_offset();
        pos = ev.position + ev.header.total_size();
        resync_batches.push_back(ev.position);
      } else {
        if (!first_fault) first_fault = ev.position;
        FUZZ_CHECK(ev.reason != BatchError::kOk, "a fault without a reason");
        if (ev.kind == ScanKind::kCorrupt) {
          FUZZ_CHECK(ev.resume_position > ev.position && ev.resume_position < size, "resync did not move forward");
          pos = ev.resume_position;
        }
      }
    }
    FUZZ_CHECK(sc.status().is_ok(), "scanning memory failed");
  }
  BatchScanner stop(bytes, ScanStart{0, 0, 0, false, true});
  ScanEvent ev;
  size_t i = 0;
  while (stop.next(&ev, OnFault::kStop)) {
    if (ev.kind != ScanKind::kBatch) {
      FUZZ_CHECK(first_fault && ev.position == *first_fault, "kStop and kResync disagree on the first fault");
      break;
    }
    FUZZ_CHECK(i < resync_batches.size() && resync_batches[i] == ev.position, "kStop yielded another batch");
    ++i;
  }
  FUZZ_CHECK(!first_fault || i <= resync_batches.size(), "kStop yielded more batches");
  return 0;
}

// Input: byte 0 picks the offset or the time index; the rest is the file.
// Whatever parses serialises back to the same bytes.
inline int fuzz_index(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto ti = TimeIndex::parse(bytes);
    if (ti.is_ok()) FUZZ_CHECK(ti->serialize() == bytes, "time index round trip changed the bytes");
  } else {
    auto oi = OffsetIndex::parse(bytes);
    if (oi.is_ok()) FUZZ_CHECK(oi->serialize() == bytes, "offset index round trip changed the bytes");
  }
  return 0;
}

// A scratch directory on tmpfs (or /tmp), made once per process and removed
// at exit. The path is never destroyed: the exit handler runs after static
// destructors registered later would have freed it.
inline const std::string& scratch_dir() {
  static const std::string* dir = [] {
    const char* base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string tmpl = std::string(base) + "/rustlog-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    auto* d = new std::string(tmpl);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return *dir;
}

// Input: the bytes of one segment's .log file. Recovery never fails on
// content (it truncates what is invalid), leaves a log that reads back
// whole, valid batches with dense, growing offsets up to its high
// watermark, that `rustlog verify` finds clean, and that a second recovery
// leaves as it is.
inline int fuzz_segment_recovery(const uint8_t* data, size_t size) {
  const std::string root = scratch_dir();
  const std::string dir = root + "/p-0";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directory(dir);
  {
    const int fd = ::open((dir + "/00000000000000000000.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    FUZZ_CHECK(fd >= 0, "cannot create the segment file");
    FUZZ_CHECK(::write(fd, data, size) == static_cast<ssize_t>(size), "cannot write the segment file");
    ::close(fd);
  }
  LogConfig cfg;
  cfg.segment_bytes = 1 << 20;
  cfg.index_interval_bytes = 64;
  uint64_t hw = 0;
  {
    auto log = PartitionLog::open(dir, cfg, 0);
    FUZZ_CHECK(log.is_ok(), "recovery failed on a segment's content");
    hw = (*log)->high_watermark();
    uint64_t off = (*log)->log_start_offset();
    while (off < hw) {
      auto r = (*log)->read(off, 1 << 20);
      FUZZ_CHECK(r.is_ok(), "a recovered log does not read back");
      FUZZ_CHECK(!r->data.empty(), "a read below the high watermark returned nothing");
      std::vector<Record> recs;
      FUZZ_CHECK(decode_batches(r->data, off, &recs).is_ok(), "a recovered log serves an invalid batch");
      FUZZ_CHECK(r->next_offset > off, "reads do not advance");
      off = r->next_offset;
    }
    FUZZ_CHECK(off == hw, "reads end past the high watermark");
  }
  admin::VerifyOptions vo;
  vo.index_interval_bytes = cfg.index_interval_bytes;
  auto report = admin::verify_data_dir(dir, vo);
  FUZZ_CHECK(report.is_ok(), "verify cannot read a recovered partition");
  FUZZ_CHECK(report->clean(), "verify finds problems in a recovered partition");
  auto again = PartitionLog::open(dir, cfg, 0);
  FUZZ_CHECK(again.is_ok() && (*again)->high_watermark() == hw, "a second recovery changed the log");
  FUZZ_CHECK((*again)->recovery_report().bytes_truncated == 0, "a second recovery truncated again");
  return 0;
}

}  // namespace rustlog::fuzz
