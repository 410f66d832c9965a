#pragma once
// A bounded single-producer single-consumer ring: how a data-plane thread
// hands events and IKE datagrams to the control thread without a lock.

#include <array>
#include <atomic>
#include <cstddef>

namespace mesh::tunnel {

template <class T, std::size_t N>
class SpscRing {
    static_assert((N & (N - 1)) == 0, "N must be a power of two");

public:
    // Producer: the slot to fill, or nullptr when full; commit() publishes it.
    T* prepare() noexcept
    {
        const auto head = head_.load(std::memory_order_relaxed);
        if (head - tail_.load(std::memory_order_acquire) == N)
            return nullptr;
        return &slots_[head % N];
    }
    void commit() noexcept { head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

    // Consumer: the oldest filled slot, or nullptr when empty; release() frees it.
    T* front() noexcept
    {
        const auto tail = tail_.load(std::memory_order_relaxed);
        if (tail == head_.load(std::memory_order_acquire))
            return nullptr;
        return &slots_[tail % N];
    }
    void release() noexcept { tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

private:
    alignas(64) std::atomic<std::size_t> head_{0};
    alignas(64) std::atomic<std::size_t> tail_{0};
    std::array<T, N> slots_{};
};

} // namespace mesh::tunnel
