#pragma once
// Traffic Selector payloads, TSi and TSr (RFC 7296 section 3.13).

#include "ike/constants.hpp"
#include "ike/layout.hpp"
#include "ike/limits.hpp"
#include "net/ip_address.hpp"

#include <cstdint>
#include <vector>

namespace mesh::ike {

// RFC 7296 section 3.13.1, Traffic Selector.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |   TS Type     |IP Protocol ID*|       Selector Length         |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |           Start Port*         |           End Port*           |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                         Starting Address*                     ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                         Ending Address*                       ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Only TS_IPV4_ADDR_RANGE (length 16) and TS_IPV6_ADDR_RANGE (length 40) are
// defined by RFC 7296; any other type is refused as invalid_syntax, as
// strongSwan does. Start port 65535 with end port 0 means OPAQUE.
struct TrafficSelector {
    TsType ts_type = TsType::ipv4_addr_range;
    std::uint8_t ip_protocol = 0;   // 0: any
    std::uint16_t start_port = 0;
    std::uint16_t end_port = 65535;
    net::IpAddress start_address;   // of the family ts_type names
    net::IpAddress end_address;

    template <class Self, class Io>
    static void layout(Self& ts, Io& io)
    {
        io.u8(ts.ts_type);
        io.u8(ts.ip_protocol);
        net::IpAddress::Family family{};
        switch (ts.ts_type) {
        case TsType::ipv4_addr_range:
            family = net::IpAddress::Family::v4;
            io.expect_u16(limits::ts_ipv4_length, ParseErrc::bad_length);
            break;
        case TsType::ipv6_addr_range:
            family = net::IpAddress::Family::v6;
            io.expect_u16(limits::ts_ipv6_length, ParseErrc::bad_length);
            break;
        default:
            return io.fail(ParseErrc::invalid_syntax);
        }
        io.u16(ts.start_port);
        io.u16(ts.end_port);
        io.address(ts.start_address, family);
        io.address(ts.end_address, family);
    }

    friend bool operator==(const TrafficSelector&, const TrafficSelector&) = default;
};

// RFC 7296 section 3.13.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Next Payload  |C|  RESERVED   |         Payload Length        |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Number of TSs |                 RESERVED                      |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                       <Traffic Selectors>                     ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
template <PayloadType Type>
struct TsPayload {
    static constexpr PayloadType type = Type;

    std::vector<TrafficSelector> selectors;

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        std::uint8_t number_of_tss = 0;
        io.measure(p.selectors, number_of_tss);
        io.u8(number_of_tss);
        io.reserved(3);
        io.array(p.selectors, number_of_tss, limits::ts_ipv4_length, limits::max_traffic_selectors);
    }

    friend bool operator==(const TsPayload&, const TsPayload&) = default;
};
using TsiPayload = TsPayload<PayloadType::ts_i>;
using TsrPayload = TsPayload<PayloadType::ts_r>;

} // namespace mesh::ike
