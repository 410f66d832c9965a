#pragma once
// Wake-up moderation for a busy tunnel's TUN bulk queue, at real time.
//
// A real-time worker woken by each packet the host's stack hands a TUN
// preempts the producer (the sending application, on the same cores) at
// once and seals one super-packet a wake-up: one TCP stream carried about a
// tenth less than with the worker at normal priority (docs/data-plane.md,
// "Worker priority"). So when a wake-up served one tunnel alone and its turn
// read the bulk queue empty, that queue wakes the worker no sooner than
// `delay` later: its fd is registered EPOLLONESHOT and armed again only then.
// The producer runs meanwhile, and the next turn takes what it queued in one
// go, as a NIC's interrupt moderation does. The tunnel's priority queue
// (pings, BFD, ACKs: tunnel/tun_steering.hpp) and the sockets still wake the
// worker at once, and a wake-up with several tunnels ready has a round of
// turns to make already, so none of them waits.
//
// Every deferred queue falls due at the first one's time, one timer per
// worker: with a deadline each, 100 tunnels woke two workers at 100
// deadlines and cost half again the CPU per byte.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

namespace mesh::tunnel {

class DeferredTuns {
public:
    using Clock = std::chrono::steady_clock;
    // About one 64 KiB super-packet's time at the rate one worker seals.
    static constexpr Clock::duration delay = std::chrono::microseconds(250);
    static constexpr std::size_t capacity = 64;

    // Defers the bulk queue whose epoll data is tunnel; false when full (the
    // caller arms it at once).
    bool defer(std::uint64_t tunnel, Clock::time_point now) noexcept
    {
        if (count_ == capacity)
            return false;
        if (count_ == 0)
            due_ = now + delay;
        tunnels_[count_++] = tunnel;
        return true;
    }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    // How long the worker may sleep before the deferred queues fall due;
    // none deferred: nullopt, until an event.
    [[nodiscard]] std::optional<Clock::duration> wait_for(Clock::time_point now) const noexcept
    {
        if (count_ == 0)
            return std::nullopt;
        return std::max(Clock::duration::zero(), due_ - now);
    }
    // Once due, every deferred queue, no longer deferred: the span holds
    // until the next defer().
    [[nodiscard]] std::span<const std::uint64_t> take_due(Clock::time_point now) noexcept
    {
        if (count_ == 0 || now < due_)
            return {};
        return {tunnels_.data(), std::exchange(count_, 0)};
    }

private:
    std::array<std::uint64_t, capacity> tunnels_{};
    std::size_t count_ = 0;
    Clock::time_point due_{};
};

} // namespace mesh::tunnel
