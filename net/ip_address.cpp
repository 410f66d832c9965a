#include "net/ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace mesh::net {

IpAddress IpAddress::v4(std::uint32_t host_order) noexcept
{
    IpAddress a;
    a.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
    a.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
    a.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
    a.bytes_[3] = static_cast<std::uint8_t>(host_order);
    return a;
}

IpAddress IpAddress::from_bytes(Family family, const std::uint8_t* bytes) noexcept
{
    IpAddress a;
    a.family_ = family;
    std::memcpy(a.bytes_.data(), bytes, family == Family::v4 ? 4 : 16);
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text)
{
    const std::string s(text);
    IpAddress a;
    if (::inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1)
        return a;
    a.family_ = Family::v6;
    if (::inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1)
        return a;
    return std::nullopt;
}

bool IpAddress::is_unspecified() const noexcept
{
    return std::all_of(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(size()),
                       [](std::uint8_t b) { return b == 0; });
}

std::string IpAddress::to_string() const
{
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), text, sizeof text);
    return text;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text)
{
    const auto slash = text.find('/');
    const auto address = IpAddress::parse(text.substr(0, slash));
    if (!address)
        return std::nullopt;
    const unsigned max_length = address->is_v4() ? 32 : 128;
    if (slash == std::string_view::npos)
        return IpPrefix(*address, static_cast<std::uint8_t>(max_length));
    const auto digits = text.substr(slash + 1);
    unsigned length = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() || length > max_length)
        return std::nullopt;
    return IpPrefix(*address, static_cast<std::uint8_t>(length));
}

bool IpPrefix::contains(const IpAddress& a) const noexcept
{
    if (a.family() != address_.family())
        return false;
    const unsigned full = length_ / 8;
    if (std::memcmp(a.bytes(), address_.bytes(), full) != 0)
        return false;
    const unsigned rest = length_ % 8;
    if (rest == 0)
        return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a.bytes()[full] & mask) == (address_.bytes()[full] & mask);
}

std::string IpPrefix::to_string() const
{
    return address_.to_string() + "/" + std::to_string(length_);
}

sockaddr_storage Endpoint::to_sockaddr(socklen_t& length) const noexcept
{
    sockaddr_storage storage{};
    if (address.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, address.bytes(), 4);
        length = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        std::memcpy(&sin6->sin6_addr, address.bytes(), 16);
        length = sizeof(sockaddr_in6);
    }
    return storage;
}

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa, socklen_t length) noexcept
{
    if (sa->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
        return Endpoint{IpAddress::from_bytes(IpAddress::Family::v4,
                                              reinterpret_cast<const std::uint8_t*>(&sin->sin_addr)),
                        ntohs(sin->sin_port)};
    }
    if (sa->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
        return Endpoint{IpAddress::from_bytes(IpAddress::Family::v6,
                                              reinterpret_cast<const std::uint8_t*>(&sin6->sin6_addr)),
                        ntohs(sin6->sin6_port)};
    }
    return std::nullopt;
}

std::string Endpoint::to_string() const
{
    return address.is_v4() ? address.to_string() + ":" + std::to_string(port)
                           : "[" + address.to_string() + "]:" + std::to_string(port);
}

} // namespace mesh::net
