// The Producer's compressor threads (with a codec only): each rebuilds a sealed
// batch as a compressed ProduceBatch while it waits in the accumulator, off
// the I/O thread (producer_impl.h says how the two share the batches).
#include "client/producer_impl.h"
#include "protocol/produce_batch.h"

namespace rustlog::client {

void Producer::Impl::compress_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (compressor_stop_) return;
    ProducerBatch* b = acc_.next_to_compress();
    if (!b) {
      compress_cv_.wait(lock);
      continue;
    }
    const Compression c = wire_compression_;
    if (c.codec == Codec::kNone) {  // a broker without ProduceBatch: the ProduceEx as it is
      b->compressed = true;
      wake_locked();
      continue;
    }
    b->compressing = true;
    ++compressing_;
    lock.unlock();
    // Sealed frames do not change, and only the I/O thread removes batches,
    // after wait_compressor_locked(): `b` stays alive and unread by others.
    auto f = protocol::produce_batch_frame(b->frame, c, max_frame_bytes_);
    lock.lock();
    // A batch that cannot be rebuilt (never expected: the accumulator keeps
    // one timestamp rule per batch) travels as the ProduceEx it is.
    if (f) b->frame = std::move(*f);
    b->compressing = false;
    b->compressed = true;
    --compressing_;
    idle_cv_.notify_all();
    wake_locked();
  }
}

void Producer::Impl::wait_compressor_locked(std::unique_lock<std::mutex>& lock) {
  idle_cv_.wait(lock, [&] { return compressing_ == 0; });
}

void Producer::Impl::stop_compressor() {
  if (compressors_.empty()) return;
  for (const auto& t : compressors_)
    if (std::this_thread::get_id() == t.get_id()) return;
  {
    std::lock_guard lock(mu_);
    compressor_stop_ = true;
    compress_cv_.notify_all();
  }
  for (auto& t : compressors_)
    if (t.joinable()) t.join();
  compressors_.clear();
}

}  // namespace rustlog::client
