#pragma once
// The Security Association payload (RFC 7296 section 3.3): proposals, each a
// list of transforms, each with optional attributes. The Last Substruc and
// Length words of proposals and transforms are written by
// layout::Encoder::substructures() and checked by its Decoder twin.

#include "ike/constants.hpp"
#include "ike/crypto_suite.hpp"
#include "ike/layout.hpp"
#include "ike/limits.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace mesh::ike {

// RFC 7296 section 3.3.5, Transform Attributes.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |A|       Attribute Type        |    AF=0  Attribute Length     |
//    |F|                             |    AF=1  Attribute Value      |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                   AF=0  Attribute Value                       |
//    |                   AF=1  Not Transmitted                       |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct TransformAttribute {
    std::uint16_t type = key_length_attribute;   // 15 bits
    bool tv = true;                              // AF=1: Type/Value, the value is `tv_value`
    std::uint16_t tv_value = 0;
    std::vector<std::uint8_t> tlv_value;         // AF=0: Type/Length/Value

    template <class Self, class Io>
    static void layout(Self& a, Io& io)
    {
        io.packed16(layout::flag(a.tv, 15), layout::field(a.type, 0, 15));
        if (a.tv) {
            io.u16(a.tv_value);
            return;
        }
        std::uint16_t length = 0;
        io.measure(a.tlv_value, length);
        io.u16(length);
        io.bytes(a.tlv_value, length);
    }

    friend bool operator==(const TransformAttribute&, const TransformAttribute&) = default;
};

// RFC 7296 section 3.3.2, Transform Substructure.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Last Substruc |   RESERVED    |        Transform Length       |
//    +---------------+---------------+---------------+---------------+
//    |Transform Type |   RESERVED    |          Transform ID         |
//    +---------------+---------------+---------------+---------------+
//    ~                      Transform Attributes                     ~
//    +---------------+---------------+---------------+---------------+
//
// Last Substruc: 0 on the last transform of a proposal, 3 before it.
struct Transform {
    static constexpr std::uint8_t more = 3;

    TransformType type = TransformType::encr;
    std::uint16_t id = 0;
    std::vector<TransformAttribute> attributes;

    // A transform with the Key Length attribute (in bits), as AES wants.
    [[nodiscard]] static Transform with_key_length(TransformType type, std::uint16_t id, std::uint16_t bits);
    [[nodiscard]] std::optional<std::uint16_t> key_length() const noexcept;

    template <class Self, class Io>
    static void layout(Self& t, Io& io)
    {
        io.u8(t.type);
        io.reserved(1);
        io.u16(t.id);
        io.until_end(t.attributes, limits::max_transform_attributes);
    }

    friend bool operator==(const Transform&, const Transform&) = default;
};

// RFC 7296 section 3.3.1, Proposal Substructure.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Last Substruc |   RESERVED    |         Proposal Length       |
//    +---------------+---------------+---------------+---------------+
//    | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
//    +---------------+---------------+---------------+---------------+
//    ~                        SPI (variable)                         ~
//    +---------------+---------------+---------------+---------------+
//    ~                        <Transforms>                           ~
//    +---------------+---------------+---------------+---------------+
//
// Last Substruc: 0 on the last proposal, 2 before it.
struct Proposal {
    static constexpr std::uint8_t more = 2;

    std::uint8_t number = 1;   // 1, 2, 3... in an offer; the chosen one's number in an answer
    ProtocolId protocol_id = ProtocolId::ike;
    std::vector<std::uint8_t> spi;   // IKE: none (IKE_SA_INIT) or 8 bytes (rekey); AH, ESP: 4 bytes
    std::vector<Transform> transforms;

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        io.u8(p.number);
        io.u8(p.protocol_id);
        std::uint8_t spi_size = 0;
        io.measure(p.spi, spi_size);
        io.u8(spi_size);
        std::uint8_t num_transforms = 0;
        io.measure(p.transforms, num_transforms);
        io.u8(num_transforms);
        io.bytes(p.spi, spi_size);
        io.substructures(p.transforms, Transform::more, limits::max_transforms, num_transforms);
    }

    friend bool operator==(const Proposal&, const Proposal&) = default;
};

// RFC 7296 section 3.3.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Next Payload  |C|  RESERVED   |         Payload Length        |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                          <Proposals>                          ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct SaPayload {
    static constexpr PayloadType type = PayloadType::sa;

    std::vector<Proposal> proposals;

    template <class Self, class Io>
    static void layout(Self& sa, Io& io)
    {
        io.substructures(sa.proposals, Proposal::more, limits::max_proposals);
    }

    friend bool operator==(const SaPayload&, const SaPayload&) = default;
};

// At least one proposal, numbered 1, 2, 3... when there are several (an
// answer carries the one chosen, with its number); each with at least one
// transform and an SPI size its protocol allows; Key Length only as TV.
[[nodiscard]] bool is_valid(const SaPayload& sa) noexcept;

} // namespace mesh::ike
