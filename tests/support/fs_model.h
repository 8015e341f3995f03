#pragma once
// A model of what a power loss can leave on disk, fed with the file-system
// changes the storage layer made (recorded through the I/O seam,
// storage/fault_injection.h), and a way to build any such state as a real
// directory tree.
//
// The model (conservative, in the spirit of ALICE and LevelDB's
// fault_injection_test):
//   - A file's bytes and size are durable once it was fsync'ed or
//     fdatasync'ed. Writes and truncates since then are pending, in order; a
//     power loss keeps a prefix of them, the last one kept possibly cut at a
//     512-byte boundary of the file (a sector reached the disk, the next did
//     not). So unsynced data is lost whole or cut at 512 bytes.
//   - A directory's entries (create, mkdir, rename, unlink, rmdir) are
//     durable once that directory was fsync'ed; fsyncing a file does not make
//     its name durable. Pending entry changes of one directory survive as a
//     prefix, in order; a rename within one directory is one atomic change.
//     A rename across directories is a change in each (never used by storage).
//   - The directory the model is rooted at exists durably.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/fault_injection.h"

namespace rustlog::test {

class FsModel {
 public:
  static constexpr uint64_t kSector = 512;

  // What one crash keeps of one node's pending changes. For a file: `ops`
  // whole pending operations, then `cut` bytes (0 = none) of the next one,
  // a write. For a directory: `ops` pending entry changes.
  struct Keep {
    size_t ops = 0;
    uint64_t cut = 0;
  };
  // One power-loss state: every node not named keeps all of its pending
  // changes (`keep_rest`) or none of them.
  struct CrashState {
    std::string label;
    bool keep_rest = false;
    std::map<int, Keep> keep;
  };

  // Takes the tree under `root` as it is now as entirely durable.
  explicit FsModel(std::string root) : root_(std::filesystem::path(root).lexically_normal().string()) {
    root_node_ = new_node(true, inode_of(root_));
    scan(root_, root_node_);
  }

  // Applies one recorded change (paths outside the root are ignored).
  void apply(const fault::IoEvent& e) {
    using K = fault::IoEvent::Kind;
    switch (e.kind) {
      case K::kCreate:
      case K::kMkdir: {
        auto where = locate(e.path);
        if (!where) return;
        const int n = new_node(e.kind == K::kMkdir, e.inode);
        change_entries(where->first, {{where->second, n}});
        return;
      }
      case K::kWrite:
      case K::kTruncate: {
        Node* f = by_inode(e.inode, e.path);
        if (!f) return;
        DataOp op{e.kind == K::kTruncate, e.offset, e.data};
        apply_data(f->current, op);
        f->pending.push_back(std::move(op));
        return;
      }
      case K::kSync: {
        if (Node* f = by_inode(e.inode, e.path)) {
          f->durable = f->current;
          f->pending.clear();
        }
        return;
      }
      case K::kDirSync: {
        if (Node* d = by_inode(e.inode, e.path)) {
          d->durable_entries = d->entries;
          d->pending_entries.clear();
        }
        return;
      }
      case K::kRename: {
        auto from = locate(e.path), to = locate(e.path2);
        if (!from || !to) return;
        auto it = nodes_[from->first].entries.find(from->second);
        if (it == nodes_[from->first].entries.end()) return unknown("rename of " + e.path);
        const int n = it->second;
        if (from->first == to->first) {
          change_entries(from->first, {{from->second, -1}, {to->second, n}});
        } else {
          change_entries(from->first, {{from->second, -1}});
          change_entries(to->first, {{to->second, n}});
        }
        return;
      }
      case K::kUnlink:
      case K::kRmdir: {
        auto where = locate(e.path);
        if (!where) return;
        change_entries(where->first, {{where->second, -1}});
        return;
      }
    }
  }

  // Every power-loss state of the current moment this model distinguishes:
  // all pending changes kept (what kill -9 leaves), none kept, and, for each
  // node with pending changes, each prefix of them (each 512-byte cut of a
  // write included) with every other node kept whole or lost whole.
  std::vector<CrashState> crash_states() const {
    std::vector<CrashState> out;
    out.push_back({"everything pending kept", true, {}});
    out.push_back({"everything pending lost", false, {}});
    for (size_t id = 0; id < nodes_.size(); ++id) {
      const Node& n = nodes_[id];
      std::vector<Keep> choices;
      const size_t m = n.dir ? n.pending_entries.size() : n.pending.size();
      if (m == 0) continue;
      for (size_t i = 0; i <= m; ++i) {
        choices.push_back({i, 0});
        if (n.dir || i == m || n.pending[i].truncate) continue;
        const DataOp& op = n.pending[i];
        for (uint64_t end = (op.offset / kSector + 1) * kSector; end < op.offset + op.data.size(); end += kSector)
          choices.push_back({i, end - op.offset});
      }
      for (const Keep& k : choices)
        for (bool rest : {false, true}) {
          if (k.cut == 0 && k.ops == (rest ? m : 0)) continue;  // one of the two global states
          CrashState s;
          s.label = (n.dir ? "directory " : "file ") + path_of(static_cast<int>(id)) + " keeps " +
                    std::to_string(k.ops) + (n.dir ? " of " + std::to_string(m) + " entry changes"
                                                   : " of " + std::to_string(m) + " writes" +
                                                         (k.cut ? " + " + std::to_string(k.cut) + " bytes" : "")) +
                    (rest ? ", the rest kept" : ", the rest lost");
          s.keep_rest = rest;
          s.keep[static_cast<int>(id)] = k;
          out.push_back(std::move(s));
        }
    }
    return out;
  }

  // Builds `state` as a real tree under `dest` (which must not exist) and
  // returns a signature of it (every path and its bytes).
  std::string materialize(const CrashState& state, const std::string& dest) const {
    std::string sig;
    build(root_node_, state, dest, "", sig);
    return sig;
  }

  // Events the model could not place (a write to an inode it never saw, ...):
  // a hole in the recording, reported by the explorer as a failure.
  const std::vector<std::string>& unknown_events() const { return unknown_; }

 private:
  struct DataOp {
    bool truncate = false;
    uint64_t offset = 0;  // write position, or the new size
    std::string data;
  };
  using EntryChange = std::vector<std::pair<std::string, int>>;  // name -> node, -1 removes
  struct Node {
    bool dir = false;
    std::string durable, current;
    std::vector<DataOp> pending;
    std::map<std::string, int> durable_entries, entries;
    std::vector<EntryChange> pending_entries;
  };

  static uint64_t inode_of(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
  }

  static void apply_data(std::string& content, const DataOp& op, uint64_t limit = UINT64_MAX) {
    if (op.truncate) {
      content.resize(op.offset);
      return;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(op.data.size(), limit));
    if (content.size() < op.offset + n) content.resize(op.offset + n, '\0');
    content.replace(op.offset, n, op.data, 0, n);
  }

  int new_node(bool dir, uint64_t inode) {
    nodes_.push_back(Node{});
    nodes_.back().dir = dir;
    const int id = static_cast<int>(nodes_.size()) - 1;
    if (inode) by_inode_[inode] = id;
    return id;
  }

  void scan(const std::string& path, int id) {
    for (const auto& e : std::filesystem::directory_iterator(path)) {
      const std::string p = e.path().string();
      const bool dir = e.is_directory();
      const int child = new_node(dir, inode_of(p));
      nodes_[id].entries[e.path().filename().string()] = child;
      if (dir) {
        scan(p, child);
      } else {
        std::ifstream in(p, std::ios::binary);
        nodes_[child].current.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        nodes_[child].durable = nodes_[child].current;
      }
    }
    nodes_[id].durable_entries = nodes_[id].entries;
  }

  void unknown(const std::string& what) { unknown_.push_back(what); }

  Node* by_inode(uint64_t inode, const std::string& path) {
    auto it = by_inode_.find(inode);
    if (it == by_inode_.end()) {
      if (inside(path)) unknown("change to an untracked file " + path);
      return nullptr;
    }
    return &nodes_[it->second];
  }

  bool inside(const std::string& path) const {
    const std::string p = std::filesystem::path(path).lexically_normal().string();
    return p == root_ || p.rfind(root_ + "/", 0) == 0;
  }

  // (parent directory node, name) of `path` in the current tree.
  std::optional<std::pair<int, std::string>> locate(const std::string& path) {
    const std::filesystem::path p = std::filesystem::path(path).lexically_normal();
    if (!inside(p.string()) || p.string() == root_) return std::nullopt;
    const std::filesystem::path rel = p.lexically_relative(root_);
    int dir = root_node_;
    std::vector<std::string> parts;
    for (const auto& c : rel) parts.push_back(c.string());
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = nodes_[dir].entries.find(parts[i]);
      if (it == nodes_[dir].entries.end() || !nodes_[it->second].dir) {
        unknown("path through an untracked directory: " + path);
        return std::nullopt;
      }
      dir = it->second;
    }
    return std::make_pair(dir, parts.back());
  }

  void change_entries(int dir, EntryChange change) {
    for (const auto& [name, n] : change) {
      if (n < 0) nodes_[dir].entries.erase(name);
      else nodes_[dir].entries[name] = n;
    }
    nodes_[dir].pending_entries.push_back(std::move(change));
  }

  std::string path_of(int id) const {
    // Current path, for labels (first match in a walk from the root).
    std::string found;
    std::function<bool(int, const std::string&)> walk = [&](int d, const std::string& prefix) {
      for (const auto& [name, n] : nodes_[d].entries) {
        const std::string p = prefix + "/" + name;
        if (n == id) return found = p, true;
        if (nodes_[n].dir && walk(n, p)) return true;
      }
      return false;
    };
    if (id == root_node_) return ".";
    walk(root_node_, "");
    return found.empty() ? "(unlinked #" + std::to_string(id) + ")" : found.substr(1);
  }

  Keep keep_of(int id, const CrashState& s) const {
    auto it = s.keep.find(id);
    if (it != s.keep.end()) return it->second;
    const Node& n = nodes_[id];
    return s.keep_rest ? Keep{n.dir ? n.pending_entries.size() : n.pending.size(), 0} : Keep{};
  }

  void build(int id, const CrashState& s, const std::string& dest, const std::string& rel, std::string& sig) const {
    const Node& n = nodes_[id];
    const Keep k = keep_of(id, s);
    if (n.dir) {
      std::filesystem::create_directory(dest);
      sig += "D " + rel + "\n";
      std::map<std::string, int> entries = n.durable_entries;
      for (size_t i = 0; i < k.ops && i < n.pending_entries.size(); ++i)
        for (const auto& [name, child] : n.pending_entries[i]) {
          if (child < 0) entries.erase(name);
          else entries[name] = child;
        }
      for (const auto& [name, child] : entries) build(child, s, dest + "/" + name, rel + "/" + name, sig);
      return;
    }
    std::string content = n.durable;
    for (size_t i = 0; i < k.ops && i < n.pending.size(); ++i) apply_data(content, n.pending[i]);
    if (k.cut && k.ops < n.pending.size()) apply_data(content, n.pending[k.ops], k.cut);
    std::ofstream out(dest, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    sig += "F " + rel + " " + std::to_string(content.size()) + "\n" + content + "\n";
  }

  std::string root_;
  int root_node_ = 0;
  std::vector<Node> nodes_;
  std::map<uint64_t, int> by_inode_;
  std::vector<std::string> unknown_;
};

}  // namespace rustlog::test
