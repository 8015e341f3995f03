#pragma once
// The I/O seam under the storage layer. Every file-system change storage
// makes goes through File or the path helpers in file.h, and they call in
// here, so tests can
//   - make the next writes or fsyncs fail (arm/disarm), exercising the
//     fatal-I/O paths (failed fsync, ENOSPC) on real files;
//   - record every write, pwrite, truncate, fdatasync/fsync, directory
//     fsync, create, mkdir, rename, unlink and rmdir (set_recorder), which is
//     what the power-loss crash-state explorer replays (tests/support/crash_states.h).
// Production code pays one relaxed atomic load per call for each when
// nothing is armed or recording.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rustlog::fault {

// kPreallocate: the zero writes that preallocate a segment (File::write_zeros),
// apart from kWrite so that a test arming data writes counts only those.
enum class Op { kWrite, kSync, kRename, kPreallocate };

// After `skip` more successful calls of `op`, fail `times` calls with `err`.
// For kWrite, `partial_bytes` > 0 first writes that many bytes of the failing
// call before failing (a short write, as a full disk produces). A non-empty
// `path` limits all of it (skip included) to files whose path contains it.
void arm(Op op, int err, int skip = 0, int times = 1, size_t partial_bytes = 0, std::string path = {});
// After `skip` more calls of `op`, `times` calls wait until the file `until`
// exists, then proceed (a disk as slow as a test needs, without timing).
void arm_hold(Op op, std::string until, int skip = 0, int times = 1, std::string path = {});
void disarm();

// Called by File: returns 0 to proceed, or an errno to fail with; `*partial`
// receives how many bytes to write before failing.
int check(Op op, size_t* partial, std::string_view path = {});

// kRename fails rename_path (file.h), which every rename storage makes goes through.
// Arms faults from a spec such as "sync:EIO:skip=40", "rename:EIO", "preallocate:ENOSPC",
// "write:ENOSPC:skip=3:times=2:partial=100" or
// "sync:EIO:path=__consumer_offsets-0/:times=1000" (fields after the errno
// are optional; a path= field limits the fault to files whose path contains
// it), or "sync:HOLD:until=/tmp/go:path=.cleaned" (arm_hold). kafka-lite reads it from the RUSTLOG_FAULT environment
// variable at start, so end-to-end tests can fail an fsync inside a running
// broker. Returns false (arming nothing) when the spec does not parse.
bool arm_from_spec(const std::string& spec);

// One recorded, successful file-system change. Files are named by inode
// (st_ino) for data operations, since a file may be renamed while open;
// directory entries by path.
struct IoEvent {
  enum class Kind {
    kCreate,    // path, inode: open(O_CREAT) made a new file
    kWrite,     // inode, offset, data
    kTruncate,  // inode, offset = new size (ftruncate or O_TRUNC)
    kSync,      // inode: fsync or fdatasync of a file
    kDirSync,   // inode: fsync of a directory
    kRename,    // path -> path2
    kUnlink,    // path
    kMkdir,     // path, inode
    kRmdir,     // path
  };
  Kind kind = Kind::kWrite;
  std::string path;
  std::string path2;
  uint64_t inode = 0;
  uint64_t offset = 0;
  std::string data;
};

class IoRecorder {
 public:
  virtual ~IoRecorder() = default;
  // Called on the thread that made the change, after it succeeded.
  virtual void record(IoEvent e) = 0;
};

// Installs (nullptr: removes) the process-wide recorder. Not synchronised
// with calls in flight: install it before the storage under test is opened.
void set_recorder(IoRecorder* r);
IoRecorder* recorder();

}  // namespace rustlog::fault
