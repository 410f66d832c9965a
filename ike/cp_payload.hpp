#pragma once
// The Configuration payload, CP (RFC 7296 section 3.15).

#include "ike/constants.hpp"
#include "ike/layout.hpp"
#include "ike/limits.hpp"

#include <cstdint>
#include <vector>

namespace mesh::ike {

// RFC 7296 section 3.15.1, Configuration Attribute.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |R|         Attribute Type      |            Length             |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                                                               |
//    ~                             Value                             ~
//    |                                                               |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct ConfigAttribute {
    std::uint16_t type = cfg_attribute::internal_ip4_address;   // 15 bits
    std::vector<std::uint8_t> value;   // empty in a request that asks for the attribute

    template <class Self, class Io>
    static void layout(Self& a, Io& io)
    {
        bool reserved_bit = false;   // R: sent as zero, ignored on receipt
        io.packed16(layout::flag(reserved_bit, 15), layout::field(a.type, 0, 15));
        std::uint16_t length = 0;
        io.measure(a.value, length);
        io.u16(length);
        io.bytes(a.value, length);
    }

    friend bool operator==(const ConfigAttribute&, const ConfigAttribute&) = default;
};

// RFC 7296 section 3.15.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Next Payload  |C| RESERVED    |         Payload Length        |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |   CFG Type    |                    RESERVED                   |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                   Configuration Attributes                    ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct CpPayload {
    static constexpr PayloadType type = PayloadType::cp;

    CfgType cfg_type = CfgType::request;
    std::vector<ConfigAttribute> attributes;

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        io.u8(p.cfg_type);
        io.reserved(3);
        io.until_end(p.attributes, limits::max_config_attributes);
    }

    friend bool operator==(const CpPayload&, const CpPayload&) = default;
};

} // namespace mesh::ike
