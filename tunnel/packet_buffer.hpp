#pragma once
// One packet (or, with offloads, one 64 KiB super-packet) in a fixed buffer with
// headroom and tailroom, so GRE and ESP headers are written in front of the
// payload and the ESP trailer and ICV behind it without moving a byte.
//
//   storage: [ headroom | data ............ | tailroom ]
//                       ^offset_   offset_+size_^

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mesh::tunnel {

class PacketBuffer {
public:
    // Outer headers written in place: GRE (at most 16) + ESP header and IV (at most 24).
    static constexpr std::size_t default_headroom = 128;
    // An IPv4/IPv6 packet or a TSO super-packet of up to 64 KiB, plus ESP padding and ICV.
    static constexpr std::size_t capacity = 65536 + 512;

    PacketBuffer() noexcept = default;

    [[nodiscard]] std::span<std::uint8_t> data() noexcept { return {storage_.data() + offset_, size_}; }
    [[nodiscard]] std::span<const std::uint8_t> data() const noexcept { return {storage_.data() + offset_, size_}; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t headroom() const noexcept { return offset_; }
    [[nodiscard]] std::size_t tailroom() const noexcept { return capacity - offset_ - size_; }

    // Empties the buffer and leaves `headroom` bytes in front for later headers.
    void reset(std::size_t headroom = default_headroom) noexcept
    {
        assert(headroom <= capacity);
        offset_ = headroom;
        size_ = 0;
    }
    // Where a read may land: everything after the current start.
    [[nodiscard]] std::span<std::uint8_t> writable() noexcept { return {storage_.data() + offset_, capacity - offset_}; }
    void set_size(std::size_t size) noexcept
    {
        assert(offset_ + size <= capacity);
        size_ = size;
    }

    // Grows the data by n bytes at the front; returns the new first byte.
    std::uint8_t* push_front(std::size_t n) noexcept
    {
        assert(n <= offset_);
        offset_ -= n;
        size_ += n;
        return storage_.data() + offset_;
    }
    void pull_front(std::size_t n) noexcept
    {
        assert(n <= size_);
        offset_ += n;
        size_ -= n;
    }
    // Grows the data by n bytes at the back; returns the first new byte.
    std::uint8_t* push_back(std::size_t n) noexcept
    {
        assert(n <= tailroom());
        std::uint8_t* tail = storage_.data() + offset_ + size_;
        size_ += n;
        return tail;
    }
    void trim_back(std::size_t n) noexcept
    {
        assert(n <= size_);
        size_ -= n;
    }

private:
    std::size_t offset_ = default_headroom;
    std::size_t size_ = 0;
    alignas(64) std::array<std::uint8_t, capacity> storage_{};
};

} // namespace mesh::tunnel
