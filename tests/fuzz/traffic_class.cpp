// libFuzzer target for the pump's traffic classification, which reads every
// inner packet before anything else has checked it: the first byte picks
// ESP's next header (IPv4, IPv6, GRE or whatever it is), the rest is the
// payload. Any input is read within its bounds (ASan), the DSCP found is six
// bits, an IP payload's DSCP is its own IP header's, other next headers than
// GRE have none, network control is always priority and what carries no
// readable IP packet is bulk.

#include "net/headers.hpp"
#include "tunnel/traffic_class.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    const std::uint8_t next_header = data[0];
    const std::span<const std::uint8_t> payload(data + 1, size - 1);
    const auto dscp = mesh::tunnel::payload_dscp(payload, next_header);
    const auto traffic_class = mesh::tunnel::classify(payload, next_header);
    if (dscp && *dscp >= 64) {
        std::abort();
    }
    const bool ip = next_header == mesh::net::protocol_ipv4 || next_header == mesh::net::protocol_ipv6;
    if (ip && dscp != mesh::tunnel::ip_dscp(payload)) {
        std::abort();
    }
    if (!ip && next_header != mesh::net::protocol_gre && dscp) {
        std::abort();
    }
    if (dscp && (*dscp == mesh::tunnel::dscp_cs6 || *dscp == mesh::tunnel::dscp_cs7) &&
        traffic_class != mesh::tunnel::TrafficClass::priority) {
        std::abort();
    }
    if (!dscp && traffic_class != mesh::tunnel::TrafficClass::bulk) {
        std::abort();
    }
    return 0;
}
