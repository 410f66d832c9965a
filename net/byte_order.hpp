#pragma once
// Network byte order (big-endian) loads and stores on raw bytes: the one
// copy every layer's codecs and the data plane's header rewrites use. The
// caller has checked the length; these read and write exactly N bytes.

#include <cstdint>

namespace mesh::net {

[[nodiscard]] constexpr std::uint16_t load_be16(const std::uint8_t* p) noexcept
{
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

[[nodiscard]] constexpr std::uint32_t load_be32(const std::uint8_t* p) noexcept
{
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

[[nodiscard]] constexpr std::uint64_t load_be64(const std::uint8_t* p) noexcept
{
    return std::uint64_t{load_be32(p)} << 32 | load_be32(p + 4);
}

constexpr void store_be16(std::uint8_t* p, std::uint16_t v) noexcept
{
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

constexpr void store_be32(std::uint8_t* p, std::uint32_t v) noexcept
{
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

constexpr void store_be64(std::uint8_t* p, std::uint64_t v) noexcept
{
    store_be32(p, static_cast<std::uint32_t>(v >> 32));
    store_be32(p + 4, static_cast<std::uint32_t>(v));
}

} // namespace mesh::net
