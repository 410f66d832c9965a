// IKE fragmentation (RFC 7383): the datagram size a path allows, and the
// reassembly of fragments in any order, within bounds.

#include "ike/fragmentation.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace mesh::ike;

namespace {
std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t value)
{
    return std::vector<std::uint8_t>(n, value);
}
} // namespace

TEST_CASE("the IKE message limit takes the IP and UDP headers and the non-ESP marker off the path MTU")
{
    CHECK(ike_message_limit(1500, false, true) == 1500 - 20 - 8 - 4);
    CHECK(ike_message_limit(1500, false, false) == 1500 - 20 - 8);
    CHECK(ike_message_limit(1280, true, false) == 1280 - 40 - 8);
    CHECK(ike_message_limit(30, false, true) == 0);
}

TEST_CASE("fragments in any order, duplicates among them, make the message once all are in")
{
    FragmentReassembly r;
    using Outcome = FragmentReassembly::Outcome;
    CHECK(r.add(1, false, 3, 3, PayloadType::none, bytes(2, 0xc3)) == Outcome::incomplete);
    CHECK(r.add(1, false, 1, 3, PayloadType::id_i, bytes(3, 0xa1)) == Outcome::incomplete);
    CHECK(r.add(1, false, 3, 3, PayloadType::none, bytes(2, 0xff)) == Outcome::incomplete);   // a duplicate: ignored
    CHECK(r.holds(1, false));
    CHECK_FALSE(r.holds(1, true));
    CHECK(r.add(1, false, 2, 3, PayloadType::none, bytes(1, 0xb2)) == Outcome::complete);
    PayloadType first = PayloadType::none;
    CHECK(r.take(first) == std::vector<std::uint8_t>{0xa1, 0xa1, 0xa1, 0xb2, 0xc3, 0xc3});
    CHECK(first == PayloadType::id_i);   // from fragment 1 only
    CHECK_FALSE(r.holds(1, false));
}

TEST_CASE("fragment numbers and totals out of range are refused")
{
    FragmentReassembly r;
    using Outcome = FragmentReassembly::Outcome;
    CHECK(r.add(1, false, 0, 2, PayloadType::id_i, bytes(1, 1)) == Outcome::refused);
    CHECK(r.add(1, false, 3, 2, PayloadType::id_i, bytes(1, 1)) == Outcome::refused);
    CHECK(r.add(1, false, 1, 0, PayloadType::id_i, bytes(1, 1)) == Outcome::refused);
    CHECK(r.add(1, false, 1, max_fragments + 1, PayloadType::id_i, bytes(1, 1)) == Outcome::refused);
    CHECK(r.add(1, false, 1, 1, PayloadType::id_i, bytes(1, 1)) == Outcome::complete);   // a single fragment is a message
}

TEST_CASE("a larger Total Fragments starts the message over, a smaller one is refused (section 2.6.2)")
{
    FragmentReassembly r;
    using Outcome = FragmentReassembly::Outcome;
    REQUIRE(r.add(1, false, 1, 2, PayloadType::id_i, bytes(100, 1)) == Outcome::incomplete);
    // The sender cut the message again, smaller, for a smaller MTU.
    CHECK(r.add(1, false, 1, 4, PayloadType::id_i, bytes(50, 2)) == Outcome::incomplete);
    CHECK(r.add(1, false, 2, 2, PayloadType::none, bytes(100, 1)) == Outcome::refused);
    CHECK(r.add(1, false, 2, 4, PayloadType::none, bytes(50, 2)) == Outcome::incomplete);
    CHECK(r.add(1, false, 3, 4, PayloadType::none, bytes(50, 2)) == Outcome::incomplete);
    CHECK(r.add(1, false, 4, 4, PayloadType::none, bytes(50, 2)) == Outcome::complete);
    PayloadType first = PayloadType::none;
    CHECK(r.take(first) == bytes(200, 2));
}

TEST_CASE("fragments of another message start over: the earlier one was abandoned")
{
    FragmentReassembly r;
    using Outcome = FragmentReassembly::Outcome;
    REQUIRE(r.add(1, false, 1, 2, PayloadType::id_i, bytes(10, 1)) == Outcome::incomplete);
    CHECK(r.add(2, false, 2, 2, PayloadType::none, bytes(10, 2)) == Outcome::incomplete);
    CHECK(r.add(1, false, 2, 2, PayloadType::none, bytes(10, 1)) == Outcome::incomplete);   // message 1 again, alone
    CHECK(r.holds(1, false));
}

TEST_CASE("more than the byte bound held for one message is refused, and frees what was held")
{
    FragmentReassembly r;
    using Outcome = FragmentReassembly::Outcome;
    const std::size_t piece = max_reassembled_bytes / 4;
    for (std::uint16_t n = 1; n <= 4; ++n)
        REQUIRE(r.add(7, true, n, 5, PayloadType::id_r, bytes(piece, 1)) == Outcome::incomplete);
    CHECK(r.add(7, true, 5, 5, PayloadType::none, bytes(1, 1)) == Outcome::refused);
    CHECK_FALSE(r.holds(7, true));
}
