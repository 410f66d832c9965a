#pragma once
// The errors of the IKEv2 message codec, as values.

#include <cstdint>
#include <string_view>

namespace mesh::ike {

enum class ParseErrc : std::uint8_t {
    // Fewer bytes than a fixed-size part needs: the IKE header, a generic
    // payload header, or a payload's fixed fields.
    truncated = 1,
    // A length or count field disagrees with the bytes around it: the IKE
    // header's Length vs the datagram, a payload length under 4 or past the
    // end, proposal/transform/attribute/selector lengths, a Num Transforms or
    // Num SPIs that does not match, or bytes left over after the last part.
    bad_length,
    // The IKE header's major version is not 2 (the caller may answer
    // INVALID_MAJOR_VERSION, RFC 7296 section 2.5); ParseError::value holds it.
    bad_version,
    // A payload of a type this codec does not know had its critical bit set
    // (the caller answers UNSUPPORTED_CRITICAL_PAYLOAD, RFC 7296 section 2.5);
    // ParseError::value holds the payload type.
    unsupported_critical,
    // More payloads, proposals, transforms, attributes, selectors or SPIs than
    // the caps of limits.hpp.
    too_many,
    // A field value the RFC forbids: a nonce out of 16..256 bytes, an SPI size
    // the protocol does not allow, proposals not numbered 1, 2, 3..., an
    // unknown traffic selector type, an SK payload that is not last, etc.
    invalid_syntax,
};

struct ParseError {
    ParseErrc code = ParseErrc::invalid_syntax;
    // The major version for bad_version, the payload type for
    // unsupported_critical, 0 otherwise.
    std::uint8_t value = 0;

    friend bool operator==(const ParseError&, const ParseError&) = default;
};

[[nodiscard]] std::string_view to_string(ParseErrc code) noexcept;

} // namespace mesh::ike
