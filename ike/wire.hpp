#pragma once
// Big-endian bytes in and out, with every read bounds-checked.
//
// Reader never reads past its span: a read that would overrun returns zero (or
// an empty span), reads nothing, and marks the reader failed for good, so a
// run of reads can be checked once at the end. Writer appends to a vector and
// can patch a length field written earlier.

#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mesh::ike::wire {

class Reader {
public:
    explicit Reader(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return bytes_.size() - position_; }
    [[nodiscard]] std::size_t position() const noexcept { return position_; }

    template <std::unsigned_integral T>
    [[nodiscard]] T number() noexcept
    {
        if (remaining() < sizeof(T)) [[unlikely]] {
            overrun();
            return 0;
        }
        T value = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) {
            if constexpr (sizeof(T) > 1)
                value = static_cast<T>(value << 8);
            value = static_cast<T>(value | bytes_[position_ + i]);
        }
        position_ += sizeof(T);
        return value;
    }
    [[nodiscard]] std::uint8_t u8() noexcept { return number<std::uint8_t>(); }
    [[nodiscard]] std::uint16_t u16() noexcept { return number<std::uint16_t>(); }
    [[nodiscard]] std::uint32_t u32() noexcept { return number<std::uint32_t>(); }
    [[nodiscard]] std::uint64_t u64() noexcept { return number<std::uint64_t>(); }

    // The next n bytes, or an empty span (and failed) when fewer are left.
    [[nodiscard]] std::span<const std::uint8_t> take(std::size_t n) noexcept
    {
        if (remaining() < n) [[unlikely]] {
            overrun();
            return {};
        }
        const auto taken = bytes_.subspan(position_, n);
        position_ += n;
        return taken;
    }
    void skip(std::size_t n) noexcept { (void)take(n); }
    [[nodiscard]] std::span<const std::uint8_t> rest() noexcept { return take(remaining()); }

private:
    void overrun() noexcept
    {
        ok_ = false;
        position_ = bytes_.size();
    }

    std::span<const std::uint8_t> bytes_;
    std::size_t position_ = 0;
    bool ok_ = true;
};

class Writer {
public:
    explicit Writer(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

    [[nodiscard]] std::size_t position() const noexcept { return out_.size(); }

    template <std::unsigned_integral T>
    void number(T value)
    {
        for (std::size_t i = sizeof(T); i-- > 0;)
            out_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
    void u8(std::uint8_t value) { number(value); }
    void u16(std::uint16_t value) { number(value); }
    void u32(std::uint32_t value) { number(value); }
    void u64(std::uint64_t value) { number(value); }
    void bytes(std::span<const std::uint8_t> bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }
    void zeros(std::size_t n) { out_.insert(out_.end(), n, std::uint8_t{0}); }

    // Overwrites a field written earlier at `at` (a length known only later).
    template <std::unsigned_integral T>
    void patch(std::size_t at, T value) noexcept
    {
        assert(at + sizeof(T) <= out_.size());
        for (std::size_t i = 0; i < sizeof(T); ++i)
            out_[at + i] = static_cast<std::uint8_t>(value >> (8 * (sizeof(T) - 1 - i)));
    }

private:
    std::vector<std::uint8_t>& out_;
};

} // namespace mesh::ike::wire
