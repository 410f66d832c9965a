#pragma once
// The virtio-net header that leads every read from and write to a TUN opened
// with IFF_VNET_HDR (virtio 1.2 section 5.1.6, struct virtio_net_hdr without
// num_buffers). It tells the reader how the kernel wants a super-packet cut
// (gso_type, gso_size) and which checksum it left undone (NEEDS_CSUM:
// csum_start, csum_offset); a writer uses it to hand the kernel a super-packet
// of its own.
//
//   0       1       2               4               6               8              10
//   +-------+-------+---------------+---------------+---------------+---------------+
//   | flags |gso_typ|    hdr_len    |   gso_size    |  csum_start   |  csum_offset  |
//   +-------+-------+---------------+---------------+---------------+---------------+
//
// Declared here because <linux/virtio_net.h> does not compile as C++ (it has a
// member named `class`). A TUN without TUNSETVNETLE/BE uses the host's byte
// order for the 16-bit fields.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace mesh::tunnel {

struct VirtioNetHeader {
    static constexpr std::size_t size = 10;

    // flags
    static constexpr std::uint8_t needs_csum = 1;   // the checksum at csum_start + csum_offset holds only the
                                                    // pseudo-header sum; the rest is ours to add
    static constexpr std::uint8_t data_valid = 2;
    // gso_type
    static constexpr std::uint8_t gso_none = 0;
    static constexpr std::uint8_t gso_tcpv4 = 1;
    static constexpr std::uint8_t gso_tcpv6 = 4;
    static constexpr std::uint8_t gso_udp_l4 = 5;   // USO, Linux 6.2; not in Debian 12's headers
    static constexpr std::uint8_t gso_ecn = 0x80;   // a flag beside the type: the TCP super-packet carries ECE/CWR

    std::uint8_t flags = 0;
    std::uint8_t gso_type = gso_none;
    std::uint16_t hdr_len = 0;      // length of the headers repeated in every segment (a hint only)
    std::uint16_t gso_size = 0;     // payload bytes per segment
    std::uint16_t csum_start = 0;   // where the summed bytes begin (the transport header)
    std::uint16_t csum_offset = 0;  // where the checksum field sits, from csum_start

    [[nodiscard]] static VirtioNetHeader load(std::span<const std::uint8_t, size> bytes) noexcept
    {
        VirtioNetHeader h;
        h.flags = bytes[0];
        h.gso_type = bytes[1];
        std::memcpy(&h.hdr_len, bytes.data() + 2, 2);
        std::memcpy(&h.gso_size, bytes.data() + 4, 2);
        std::memcpy(&h.csum_start, bytes.data() + 6, 2);
        std::memcpy(&h.csum_offset, bytes.data() + 8, 2);
        return h;
    }
    void store(std::span<std::uint8_t, size> bytes) const noexcept
    {
        bytes[0] = flags;
        bytes[1] = gso_type;
        std::memcpy(bytes.data() + 2, &hdr_len, 2);
        std::memcpy(bytes.data() + 4, &gso_size, 2);
        std::memcpy(bytes.data() + 6, &csum_start, 2);
        std::memcpy(bytes.data() + 8, &csum_offset, 2);
    }
};

} // namespace mesh::tunnel
