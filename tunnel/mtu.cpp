// MTU arithmetic for GRE over ESP-in-UDP (see mtu.hpp for the packet layout).

#include "tunnel/mtu.hpp"

namespace mesh::tunnel {
namespace {

// Bytes outside the encrypted part: IP, UDP, ESP header, IV and ICV.
std::size_t fixed_overhead(const TunnelOverhead& o) noexcept
{
    const EspCipherInfo& c = info(o.cipher);
    const std::size_t icv = c.aead ? c.icv_bytes : info(o.integrity).icv_bytes;
    return o.underlay_ip_header + (o.udp_encapsulation ? net::udp_header_bytes : 0) + esp_header_bytes + c.iv_bytes + icv;
}

} // namespace

std::size_t outer_packet_size(std::size_t inner_size, const TunnelOverhead& overhead) noexcept
{
    const std::size_t align = info(overhead.cipher).block_bytes;
    const std::size_t unpadded = overhead.gre_header + inner_size + esp_trailer_bytes;
    const std::size_t encrypted = (unpadded + align - 1) / align * align;
    return fixed_overhead(overhead) + encrypted;
}

std::uint32_t tunnel_mtu(std::uint32_t path_mtu, const TunnelOverhead& overhead) noexcept
{
    const std::size_t fixed = fixed_overhead(overhead);
    if (path_mtu <= fixed) {
        return 0;
    }
    // The largest encrypted part that fits is a whole number of blocks; with
    // no padding at all the inner packet fills it up to trailer and GRE header.
    const std::size_t align = info(overhead.cipher).block_bytes;
    const std::size_t encrypted = (path_mtu - fixed) / align * align;
    const std::size_t around = overhead.gre_header + esp_trailer_bytes;
    if (encrypted <= around) {
        return 0;
    }
    return static_cast<std::uint32_t>(encrypted - around);
}

} // namespace mesh::tunnel
