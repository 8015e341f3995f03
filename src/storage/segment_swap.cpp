#include "storage/segment_swap.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "storage/batch_scanner.h"
#include "storage/segment.h"

namespace rustlog {

namespace fs = std::filesystem;

namespace {
constexpr const char* kExts[] = {".index", ".timeindex", ".log"};  // the log last: its rename commits

// A file's bytes through pread, for the scanner.
class FileBytes final : public ByteSource {
 public:
  FileBytes(const File& f, uint64_t size) : f_(f), size_(size) {}
  uint64_t size() const override { return size_; }
  Result<const uint8_t*> bytes(uint64_t pos, size_t n) override {
    if (buf_.size() < n) buf_.resize(n);
    RUSTLOG_RETURN_IF_ERROR(f_.pread_exact(buf_.data(), n, pos));
    return reinterpret_cast<const uint8_t*>(buf_.data());
  }

 private:
  const File& f_;
  uint64_t size_;
  std::string buf_;
};

// "<20 digits><ext><suffix>" -> base and ext.
bool parse_name(const std::string& name, const char* suffix, uint64_t* base, const char** ext) {
  const size_t sl = std::strlen(suffix);
  if (name.size() < 20 + sl || name.compare(name.size() - sl, sl, suffix) != 0) return false;
  const std::string stem = name.substr(0, name.size() - sl);
  for (const char* e : kExts) {
    const size_t el = std::strlen(e);
    if (stem.size() != 20 + el || stem.compare(20, el, e) != 0) continue;
    auto b = Segment::parse_log_file_name(stem.substr(0, 20) + ".log");
    if (!b) return false;
    *base = *b;
    *ext = e;
    return true;
  }
  return false;
}

// The offset after the last whole batch of a swap file.
Result<uint64_t> end_offset_of(const std::string& path, uint64_t base) {
  auto f = File::open(path, O_RDONLY);
  if (!f) return f.status();
  auto sz = f->size();
  if (!sz) return sz.status();
  FileBytes src(*f, *sz);
  BatchScanner sc(src, ScanStart{.position = 0, .next_offset = base, .segment_base = base});
  ScanEvent ev;
  while (sc.next(&ev, OnFault::kStop)) {
    if (ev.kind != ScanKind::kBatch) break;
  }
  RUSTLOG_RETURN_IF_ERROR(sc.status());
  return sc.next_offset();
}
}  // namespace

std::string segment_file_path(const std::string& dir, uint64_t base, const char* ext, const char* suffix) {
  return dir + "/" + Segment::file_name(base, ext) + suffix;
}

CleanedSegmentWriter::~CleanedSegmentWriter() = default;

Result<CleanedSegmentWriter> CleanedSegmentWriter::create(const std::string& dir, uint64_t base,
                                                          uint32_t index_interval) {
  CleanedSegmentWriter w;
  w.dir_ = dir;
  w.base_ = base;
  w.next_offset_ = base;
  w.policy_ = IndexPolicy(index_interval);
  w.active_ = true;
  auto f = File::open(segment_file_path(dir, base, ".log", kCleanedSuffix), O_RDWR | O_CREAT | O_TRUNC | O_APPEND);
  if (!f) return f.status();
  w.log_ = std::move(*f);
  return w;
}

Status CleanedSegmentWriter::append(std::string_view batch, const BatchHeader& h) {
  const auto e = policy_.on_batch(static_cast<uint32_t>(h.base_offset - base_), static_cast<uint32_t>(size_),
                                  static_cast<uint32_t>(batch.size()), h.max_timestamp);
  RUSTLOG_RETURN_IF_ERROR(log_.write_all(batch));
  if (e.offset) oi_.add(e.offset->first, e.offset->second);
  if (e.time) ti_.add(e.time->first, e.time->second);
  size_ += batch.size();
  ++batches_;
  next_offset_ = h.next_offset();
  return Status::ok();
}

DiskWait dir_sync_wait(const std::string& dir) {
  return [dir] { return fsync_dir(dir); };
}

Result<DiskWait> CleanedSegmentWriter::finish_writes(int64_t last_append_us) {
  // Shared: a DiskWait is copyable, the descriptors are not.
  auto files = std::make_shared<std::vector<File>>();
  const std::pair<const char*, std::string> idx[] = {{".index", oi_.serialize()}, {".timeindex", ti_.serialize()}};
  for (const auto& [ext, bytes] : idx) {
    auto f = File::open(segment_file_path(dir_, base_, ext, kCleanedSuffix), O_WRONLY | O_CREAT | O_TRUNC);
    if (!f) return f.status();
    RUSTLOG_RETURN_IF_ERROR(f->write_all(bytes));
    files->push_back(std::move(*f));
  }
  // The broker's last write to the data is what the originals' mtime said.
  struct timespec ts[2];
  ts[0].tv_sec = last_append_us / 1000000;
  ts[0].tv_nsec = (last_append_us % 1000000) * 1000;
  ts[1] = ts[0];
  if (last_append_us > 0 && ::futimens(log_.fd(), ts) != 0)
    return io_error("cannot set the modification time of", log_.path(), errno);
  files->push_back(std::move(log_));  // the log last, as before
  return DiskWait([files] {
    for (File& f : *files) RUSTLOG_RETURN_IF_ERROR(f.sync());
    for (File& f : *files) f.close();
    return Status::ok();
  });
}

Status CleanedSegmentWriter::finish(int64_t last_append_us) {
  auto sync = finish_writes(last_append_us);
  if (!sync) return sync.status();
  return (*sync)();
}

void CleanedSegmentWriter::abandon() {
  if (!active_) return;
  log_.close();
  for (const char* ext : kExts) (void)remove_file(segment_file_path(dir_, base_, ext, kCleanedSuffix));
  active_ = false;
}

Status rename_cleaned_to_swap(const std::string& dir, uint64_t base) {
  for (const char* ext : kExts)
    RUSTLOG_RETURN_IF_ERROR(rename_path(segment_file_path(dir, base, ext, kCleanedSuffix),
                                        segment_file_path(dir, base, ext, kSwapSuffix)));
  return Status::ok();
}

Status rename_swap_to_final(const std::string& dir, uint64_t base) {
  for (const char* ext : kExts)
    RUSTLOG_RETURN_IF_ERROR(rename_path(segment_file_path(dir, base, ext, kSwapSuffix), segment_file_path(dir, base, ext)));
  return Status::ok();
}

Status remove_swap_files(const std::string& dir, uint64_t base) {
  for (const char* ext : kExts) {
    RUSTLOG_RETURN_IF_ERROR(remove_file(segment_file_path(dir, base, ext, kCleanedSuffix)));
    RUSTLOG_RETURN_IF_ERROR(remove_file(segment_file_path(dir, base, ext, kSwapSuffix)));
  }
  return Status::ok();
}

Status finish_interrupted_swaps(const std::string& dir, SwapRecovery* out) {
  std::set<uint64_t> committed;               // bases with a B.log.swap
  std::map<uint64_t, std::vector<std::string>> loose;  // other .cleaned / .swap files by base
  std::set<uint64_t> segment_bases;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    uint64_t b = 0;
    const char* ext = nullptr;
    if (parse_name(name, kSwapSuffix, &b, &ext)) {
      if (std::strcmp(ext, ".log") == 0) committed.insert(b);
      else loose[b].push_back(e.path().string());
    } else if (parse_name(name, kCleanedSuffix, &b, &ext)) {
      loose[b].push_back(e.path().string());
    } else if (auto lb = Segment::parse_log_file_name(name)) {
      segment_bases.insert(*lb);
    }
  }
  if (ec) return Status(ErrorCode::kStorageError, "cannot list " + dir + ": " + ec.message());
  bool changed = false;
  // Uncommitted: .cleaned files, and .swap index files without their log.
  for (auto& [b, paths] : loose) {
    bool undone = false;
    for (const auto& p : paths) {
      const bool swap_of_committed = committed.count(b) && p.size() > 5 && p.compare(p.size() - 5, 5, kSwapSuffix) == 0;
      if (swap_of_committed) continue;
      RUSTLOG_RETURN_IF_ERROR(remove_file(p));
      undone = changed = true;
    }
    if (undone && !committed.count(b)) ++out->undone;
  }
  // Committed: delete what the swap replaced, then take the final names.
  for (uint64_t b : committed) {
    auto end = end_offset_of(segment_file_path(dir, b, ".log", kSwapSuffix), b);
    if (!end) return end.status();
    for (uint64_t s : segment_bases) {
      if (s <= b || s >= *end) continue;
      for (const char* ext : kExts) RUSTLOG_RETURN_IF_ERROR(remove_file(segment_file_path(dir, s, ext)));
      ++out->segments_removed;
    }
    for (const char* ext : kExts) {
      const std::string from = segment_file_path(dir, b, ext, kSwapSuffix);
      if (path_exists(from)) RUSTLOG_RETURN_IF_ERROR(rename_path(from, segment_file_path(dir, b, ext)));
    }
    ++out->finished;
    changed = true;
  }
  if (changed) RUSTLOG_RETURN_IF_ERROR(fsync_dir(dir));
  return Status::ok();
}

}  // namespace rustlog
