#pragma once
// Quiescent-state-based reclamation (the userspace RCU flavour that costs
// readers nothing but a store per batch): the control thread publishes a new
// immutable snapshot and retires the old one; a retired snapshot is freed once
// every data-plane thread has passed a quiescent point (finished a batch, or
// gone to sleep in epoll) after it was retired.

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

namespace mesh::tunnel {

class QuiescentState {
public:
    // One per data-plane thread, registered before the thread starts.
    class Reader {
    public:
        // Between batches: no snapshot pointer is held any more.
        void quiescent() noexcept { seen_.store(owner_->epoch_.load(std::memory_order_acquire), std::memory_order_release); }
        // Before blocking: the thread holds nothing while it sleeps.
        void offline() noexcept { seen_.store(offline_epoch, std::memory_order_release); }
        // After waking, before the next snapshot is read. This store, the
        // snapshot's load (SaTable::snapshot), the publishing store and
        // reclaim()'s loads are all seq_cst, so they fall in one total order:
        // either the control thread sees this reader online, or this reader
        // sees the snapshot published before it. (Not a pair of fences:
        // ThreadSanitizer cannot check those, and it checks this.)
        void online() noexcept
        {
            seen_.store(owner_->epoch_.load(std::memory_order_acquire), std::memory_order_seq_cst);
        }

    private:
        friend class QuiescentState;
        static constexpr std::uint64_t offline_epoch = std::numeric_limits<std::uint64_t>::max();
        explicit Reader(QuiescentState* owner) noexcept : owner_(owner) {}
        QuiescentState* owner_;
        alignas(64) std::atomic<std::uint64_t> seen_{offline_epoch};
    };

    Reader& add_reader();
    // Control thread: keep `garbage` alive until every reader has been quiescent.
    void retire(std::shared_ptr<const void> garbage);
    // Control thread: free what no reader can still see. Returns how many remain.
    std::size_t reclaim();

private:
    struct Retired {
        std::uint64_t epoch;
        std::shared_ptr<const void> garbage;
    };
    std::atomic<std::uint64_t> epoch_{1};
    std::vector<std::unique_ptr<Reader>> readers_;
    std::vector<Retired> retired_;
};

} // namespace mesh::tunnel
