// The semantic rules of RFC 7296 that the layouts do not express, checked by
// parse() after a payload's layout has been read, and the payloads' helpers.

#include "ike/limits.hpp"
#include "ike/payloads.hpp"
#include "ike/sa_payload.hpp"

namespace mesh::ike {
namespace {

// RFC 7296 section 3.3.1: "SPI Size ... For an initial IKE SA negotiation,
// this field MUST be zero"; eight when rekeying an IKE SA (section 1.3.2);
// four for AH and ESP.
bool spi_size_allowed(ProtocolId protocol, std::size_t size) noexcept
{
    switch (protocol) {
    case ProtocolId::ike:
        return size == 0 || size == 8;
    case ProtocolId::ah:
    case ProtocolId::esp:
        return size == 4;
    default:
        return size == 0 || size == 4 || size == 8;
    }
}

template <class Id>
bool id_valid(const Id& p) noexcept
{
    switch (p.id_type) {
    case IdType::ipv4_addr:
        return p.data.size() == 4;
    case IdType::ipv6_addr:
        return p.data.size() == 16;
    default:
        return true;
    }
}

} // namespace

Transform Transform::with_key_length(TransformType type, std::uint16_t id, std::uint16_t bits)
{
    return Transform{type, id, {TransformAttribute{key_length_attribute, true, bits, {}}}};
}

std::optional<std::uint16_t> Transform::key_length() const noexcept
{
    for (const TransformAttribute& a : attributes)
        if (a.type == key_length_attribute && a.tv)
            return a.tv_value;
    return std::nullopt;
}

// RFC 7296 section 3.3.1: "The first Proposal MUST have a Proposal Num of one
// (1) ... each subsequent Proposal MUST be one more than the previous"; an
// answer holds one proposal bearing the number of the one accepted.
bool is_valid(const SaPayload& sa) noexcept
{
    if (sa.proposals.empty())
        return false;
    for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
        const Proposal& p = sa.proposals[i];
        if (p.number == 0 || (sa.proposals.size() > 1 && p.number != i + 1))
            return false;
        if (p.transforms.empty() || !spi_size_allowed(p.protocol_id, p.spi.size()))
            return false;
        // Section 3.3.5: Key Length is in the TV format.
        for (const Transform& t : p.transforms)
            for (const TransformAttribute& a : t.attributes)
                if (a.type == key_length_attribute && !a.tv)
                    return false;
    }
    return true;
}

bool is_valid(const IdiPayload& p) noexcept { return id_valid(p); }
bool is_valid(const IdrPayload& p) noexcept { return id_valid(p); }

bool is_valid(const NoncePayload& p) noexcept
{
    return p.data.size() >= limits::min_nonce_length && p.data.size() <= limits::max_nonce_length;
}

bool is_valid(const NotifyPayload& p) noexcept
{
    return p.spi.empty() || p.spi.size() == 4 || p.spi.size() == 8;
}

// Section 3.11: "Deletion of the IKE SA is indicated by a protocol ID of 1
// (IKE) but no SPIs."
bool is_valid(const DeletePayload& p) noexcept
{
    return p.protocol_id != ProtocolId::ike || p.spis.empty();
}

// RFC 7383 section 2.5: Fragment Number counts from 1 up to Total Fragments.
bool is_valid(const SkfPayload& p) noexcept
{
    return p.fragment_number >= 1 && p.fragment_number <= p.total_fragments;
}

} // namespace mesh::ike
