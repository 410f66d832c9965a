#pragma once
// IPv4/IPv6 addresses, prefixes and UDP endpoints as plain values, shared by the
// data plane (socket addresses) and the configuration.

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mesh::net {

class IpAddress {
public:
    enum class Family : std::uint8_t { v4, v6 };

    IpAddress() noexcept = default;
    static IpAddress v4(std::uint32_t host_order) noexcept;
    static IpAddress from_bytes(Family family, const std::uint8_t* bytes) noexcept;
    // Dotted quad or RFC 5952 text; nullopt for anything else.
    static std::optional<IpAddress> parse(std::string_view text);

    [[nodiscard]] Family family() const noexcept { return family_; }
    [[nodiscard]] bool is_v4() const noexcept { return family_ == Family::v4; }
    [[nodiscard]] bool is_unspecified() const noexcept;
    // 4 or 16 significant bytes, network order.
    [[nodiscard]] const std::uint8_t* bytes() const noexcept { return bytes_.data(); }
    [[nodiscard]] std::size_t size() const noexcept { return is_v4() ? 4 : 16; }
    [[nodiscard]] std::string to_string() const;

    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

private:
    Family family_ = Family::v4;
    std::array<std::uint8_t, 16> bytes_{};
};

class IpPrefix {
public:
    IpPrefix() noexcept = default;
    IpPrefix(IpAddress address, std::uint8_t length) noexcept : address_(address), length_(length) {}
    // "10.0.0.0/24", "2001:db8::/32"; a bare address is a host prefix.
    static std::optional<IpPrefix> parse(std::string_view text);

    [[nodiscard]] const IpAddress& address() const noexcept { return address_; }
    [[nodiscard]] std::uint8_t length() const noexcept { return length_; }
    [[nodiscard]] bool contains(const IpAddress& a) const noexcept;
    [[nodiscard]] std::string to_string() const;

    friend auto operator<=>(const IpPrefix&, const IpPrefix&) = default;

private:
    IpAddress address_;
    std::uint8_t length_ = 0;
};

struct Endpoint {
    IpAddress address;
    std::uint16_t port = 0;

    [[nodiscard]] sockaddr_storage to_sockaddr(socklen_t& length) const noexcept;
    static std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t length) noexcept;
    [[nodiscard]] std::string to_string() const;

    friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

} // namespace mesh::net
