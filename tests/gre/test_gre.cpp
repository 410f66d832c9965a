// GRE encap/decap (RFC 2784, RFC 2890): round trips, each rejection, known answers.

#include "gre/gre.hpp"

#include "gre/checksum.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace {

using mesh::gre::decap;
using mesh::gre::encap;
using mesh::gre::GreError;
using mesh::gre::Header;
using mesh::gre::header_length;

// Designated initializers that skip members trip GCC's -Wmissing-field-initializers.
Header make_header(bool checksum, std::optional<std::uint32_t> key = {}, std::optional<std::uint32_t> sequence = {})
{
    Header h;
    h.checksum = checksum;
    h.key = key;
    h.sequence = sequence;
    return h;
}

const std::array<std::uint8_t, 5> payload{0x45, 0x00, 0xde, 0xad, 0x01};   // odd on purpose

std::vector<std::uint8_t> encapsulate(const Header& h)
{
    std::vector<std::uint8_t> packet(header_length(h) + payload.size());
    std::copy(payload.begin(), payload.end(), packet.begin() + static_cast<std::ptrdiff_t>(header_length(h)));
    encap(packet, h);
    return packet;
}

} // namespace

TEST_CASE("every combination of C, K and S survives encap and decap")
{
    for (unsigned flags = 0; flags < 8; ++flags) {
        CAPTURE(flags);
        Header h;
        h.protocol = mesh::gre::ethertype_ipv6;
        h.checksum = (flags & 1U) != 0;
        if ((flags & 2U) != 0) {
            h.key = 0xdeadbeef;
        }
        if ((flags & 4U) != 0) {
            h.sequence = 0xfffffffe;
        }
        const auto packet = encapsulate(h);
        const auto d = decap(packet);
        REQUIRE(d.has_value());
        CHECK(d->header == h);
        CHECK(d->payload_offset == header_length(h));
        CHECK(std::equal(payload.begin(), payload.end(), packet.begin() + static_cast<std::ptrdiff_t>(d->payload_offset)));
    }
}

TEST_CASE("the base header is 4 bytes and the optional fields 4 each")
{
    CHECK(header_length(Header{}) == 4);
    CHECK(header_length(make_header(true, 1, 2)) == mesh::gre::max_header_length);
    const auto packet = encapsulate(Header{});
    CHECK(packet[0] == 0x00);
    CHECK(packet[1] == 0x00);
    CHECK(packet[2] == 0x08);
    CHECK(packet[3] == 0x00);
}

TEST_CASE("a header with no payload decapsulates to an empty payload")
{
    const std::array<std::uint8_t, 4> packet{0x00, 0x00, 0x08, 0x00};
    const auto d = decap(packet);
    REQUIRE(d.has_value());
    CHECK(d->payload_offset == 4);
}

TEST_CASE("checksum known answer: RFC 1071 sum over header and payload")
{
    // 80 00 08 00 | 00 00 00 00 | 01 02 03 04: 0x8000 + 0x0800 + 0x0102 + 0x0304
    // = 0x8c06, so the checksum is 0x73f9.
    std::array<std::uint8_t, 12> packet{0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04};
    encap(packet, make_header(true));
    const std::array<std::uint8_t, 12> expected{0x80, 0x00, 0x08, 0x00, 0x73, 0xf9, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04};
    CHECK(packet == expected);
}

TEST_CASE("a captured packet with checksum, key and sequence decodes")
{
    // GRE (C, K, S; IPv4; key 1; sequence 42) carrying an ICMP echo request
    // 172.16.1.1 -> 172.16.1.2, as a capture shows it.
    const std::array<std::uint8_t, 48> packet{
        0xb0, 0x00, 0x08, 0x00, 0x47, 0xd4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2a,
        0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x40, 0x00, 0x40, 0x01, 0xe0, 0xb8, 0xac, 0x10, 0x01, 0x01,
        0xac, 0x10, 0x01, 0x02, 0x08, 0x00, 0x04, 0xfd, 0x12, 0x34, 0x00, 0x01, 0x6d, 0x65, 0x73, 0x68};
    const auto d = decap(packet);
    REQUIRE(d.has_value());
    CHECK(d->header == make_header(true, 1, 42));
    CHECK(d->payload_offset == 16);
    CHECK(packet[d->payload_offset] == 0x45);

    // Encapsulating the same header over the same payload gives the same bytes.
    std::array<std::uint8_t, 48> rebuilt{};
    std::copy(packet.begin() + 16, packet.end(), rebuilt.begin() + 16);
    encap(rebuilt, d->header);
    CHECK(rebuilt == packet);
}

TEST_CASE("decap rejects fewer than 4 bytes as truncated")
{
    const std::array<std::uint8_t, 3> packet{0x00, 0x00, 0x08};
    CHECK(decap(packet).error() == GreError::truncated);
    CHECK(decap({}).error() == GreError::truncated);
}

TEST_CASE("decap rejects flags announcing fields beyond the end as truncated")
{
    // Each flag alone with its field cut by one byte, and all three with one missing field.
    const std::array<std::uint8_t, 7> c{0x80, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00};
    const std::array<std::uint8_t, 7> k{0x20, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00};
    const std::array<std::uint8_t, 7> s{0x10, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00};
    const std::array<std::uint8_t, 12> cks{0xb0, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(decap(c).error() == GreError::truncated);
    CHECK(decap(k).error() == GreError::truncated);
    CHECK(decap(s).error() == GreError::truncated);
    CHECK(decap(cks).error() == GreError::truncated);
}

TEST_CASE("decap rejects every version other than 0")
{
    for (std::uint8_t version = 1; version < 8; ++version) {
        CAPTURE(version);
        const std::array<std::uint8_t, 4> packet{0x00, version, 0x08, 0x00};
        CHECK(decap(packet).error() == GreError::bad_version);
    }
}

TEST_CASE("decap rejects each Reserved0 bit: 1 and 4 to 12")
{
    for (unsigned bit : {1U, 4U, 5U, 6U, 7U, 8U, 9U, 10U, 11U, 12U}) {
        CAPTURE(bit);
        const auto flags = static_cast<std::uint16_t>(0x8000U >> bit);
        const std::array<std::uint8_t, 4> packet{static_cast<std::uint8_t>(flags >> 8), static_cast<std::uint8_t>(flags),
                                                 0x08, 0x00};
        CHECK(decap(packet).error() == GreError::reserved_bits_set);
    }
}

TEST_CASE("decap rejects a non-zero Reserved1 when C is set")
{
    // With the checksum recomputed over it, so only Reserved1 is wrong.
    auto packet = encapsulate(make_header(true));
    packet[4] = 0;
    packet[5] = 0;
    packet[7] = 0x01;
    const std::uint16_t checksum = mesh::gre::internet_checksum(packet);
    packet[4] = static_cast<std::uint8_t>(checksum >> 8);
    packet[5] = static_cast<std::uint8_t>(checksum);
    CHECK(decap(packet).error() == GreError::reserved_bits_set);
}

TEST_CASE("decap rejects a wrong checksum")
{
    auto checksum_field = encapsulate(make_header(true));
    checksum_field[5] ^= 0x01;
    CHECK(decap(checksum_field).error() == GreError::bad_checksum);

    auto payload_byte = encapsulate(make_header(true, 5));
    payload_byte.back() ^= 0x80;
    CHECK(decap(payload_byte).error() == GreError::bad_checksum);
}

TEST_CASE("key and sequence are written in network byte order")
{
    const auto packet = encapsulate(make_header(false, 0x01020304, 7));
    const std::array<std::uint8_t, 12> expected{0x30, 0x00, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x07};
    CHECK(std::equal(expected.begin(), expected.end(), packet.begin()));
}
