// The bounds-checked big-endian reader and writer (ike/wire.hpp) and the two
// interpreters of a layout description (ike/layout.hpp).

#include "ike/layout.hpp"
#include "ike/wire.hpp"

#include "codec_helpers.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace mesh::ike;
using ike_test::Bytes;
using ike_test::hex;

TEST_CASE("wire reader: numbers are big-endian")
{
    const Bytes b = hex("01 0203 04050607 08090a0b0c0d0e0f");
    wire::Reader in(b);
    CHECK(in.u8() == 0x01);
    CHECK(in.u16() == 0x0203);
    CHECK(in.u32() == 0x04050607u);
    CHECK(in.u64() == 0x08090a0b0c0d0e0full);
    CHECK(in.ok());
    CHECK(in.remaining() == 0);
}

TEST_CASE("wire reader: an overrun reads nothing, returns zero and stays failed")
{
    const Bytes b = hex("aabbcc");
    wire::Reader in(b);
    CHECK(in.u16() == 0xaabb);
    CHECK(in.u16() == 0);        // one byte left: not read
    CHECK_FALSE(in.ok());
    CHECK(in.remaining() == 0);
    CHECK(in.u8() == 0);         // even though a byte was there before
    CHECK_FALSE(in.ok());
}

TEST_CASE("wire reader: take() past the end gives an empty span")
{
    const Bytes b = hex("0102030405");
    wire::Reader in(b);
    CHECK(in.take(2).size() == 2);
    CHECK(in.take(4).empty());
    CHECK_FALSE(in.ok());
}

TEST_CASE("wire writer: big-endian numbers and a patched length")
{
    Bytes out;
    wire::Writer w(out);
    w.u8(0x01);
    w.u16(0);   // a length known later
    w.u32(0x02030405);
    w.u64(0x060708090a0b0c0dull);
    w.zeros(2);
    w.patch(1, std::uint16_t{0xbeef});
    CHECK(out == hex("01 beef 02030405 060708090a0b0c0d 0000"));
}

namespace {

// A made-up layout using every primitive once: a flag and a 7-bit field in one
// byte, a count of 16-bit elements, a size-prefixed blob and the rest.
struct Sample {
    bool flag = false;
    std::uint8_t small = 0;
    std::vector<std::uint16_t> values;
    std::vector<std::uint8_t> blob;
    std::vector<std::uint8_t> tail;

    template <class Self, class Io>
    static void layout(Self& s, Io& io)
    {
        io.packed8(layout::flag(s.flag, 7), layout::field(s.small, 0, 7));
        std::uint8_t count = 0;
        io.measure(s.values, count);
        io.u8(count);
        std::uint8_t blob_size = 0;
        io.measure(s.blob, blob_size);
        io.u8(blob_size);
        io.reserved(1);
        io.array(s.values, count, 2, 8);
        io.bytes(s.blob, blob_size);
        io.rest(s.tail);
    }
    friend bool operator==(const Sample&, const Sample&) = default;
};

} // namespace

TEST_CASE("layout: one description encodes and decodes the same bytes")
{
    const Sample s{true, 0x15, {0x1122, 0x3344}, {0xaa, 0xbb, 0xcc}, {0xee}};
    Bytes out;
    layout::Encoder enc(out);
    Sample::layout(s, enc);
    REQUIRE(enc.ok());
    CHECK(out == hex("95 02 03 00 1122 3344 aabbcc ee"));

    Sample back;
    layout::Decoder dec(out);
    Sample::layout(back, dec);
    dec.finish();
    REQUIRE(dec.ok());
    CHECK(back == s);
}

TEST_CASE("layout: the decoder ignores reserved bytes, the encoder zeroes them")
{
    Sample back;
    const Bytes b = hex("00 00 00 ff");
    layout::Decoder dec(b);
    Sample::layout(back, dec);
    CHECK(dec.ok());
}

TEST_CASE("layout: a count the remaining bytes cannot hold fails before allocating")
{
    Sample back;
    const Bytes b = hex("00 08 00 00 1122");   // eight 16-bit values announced, one present
    layout::Decoder dec(b);
    Sample::layout(back, dec);
    CHECK(dec.error() == ParseErrc::bad_length);
    CHECK(back.values.capacity() == 0);
}

TEST_CASE("layout: a count over the cap is too_many")
{
    Sample back;
    Bytes b = hex("00 09 00 00");
    b.resize(4 + 18, 0);
    layout::Decoder dec(b);
    Sample::layout(back, dec);
    CHECK(dec.error() == ParseErrc::too_many);
}

TEST_CASE("layout: a size past the end is truncated, and the first error is kept")
{
    Sample back;
    const Bytes b = hex("00 00 05 00 aabb");
    layout::Decoder dec(b);
    Sample::layout(back, dec);
    CHECK(dec.error() == ParseErrc::truncated);
    dec.fail(ParseErrc::too_many);
    CHECK(dec.error() == ParseErrc::truncated);
}

TEST_CASE("layout: the encoder refuses a field value wider than its bits")
{
    const Sample s{false, 0x80, {}, {}, {}};
    Bytes out;
    layout::Encoder enc(out);
    Sample::layout(s, enc);
    CHECK_FALSE(enc.ok());
}

TEST_CASE("layout: the encoder refuses a size that does not fit its field")
{
    Sample s;
    s.blob.resize(256);
    Bytes out;
    layout::Encoder enc(out);
    Sample::layout(s, enc);
    CHECK(enc.error() == ParseErrc::bad_length);
}
