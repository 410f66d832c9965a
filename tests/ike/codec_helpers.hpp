#pragma once
// Byte-level helpers of the IKE codec tests: hex text, and datagrams assembled
// by hand from the RFC 7296 diagrams, so a test can break exactly one field.

#include "ike/constants.hpp"

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ike_test {

using Bytes = std::vector<std::uint8_t>;

// "2120 2208" -> {0x21, 0x20, 0x22, 0x08}; blanks are ignored.
inline Bytes hex(std::string_view text)
{
    const auto nibble = [](char c) -> std::uint8_t {
        if (c >= '0' && c <= '9')
            return static_cast<std::uint8_t>(c - '0');
        if (c >= 'a' && c <= 'f')
            return static_cast<std::uint8_t>(c - 'a' + 10);
        if (c >= 'A' && c <= 'F')
            return static_cast<std::uint8_t>(c - 'A' + 10);
        throw std::invalid_argument("not hex");
    };
    Bytes out;
    int high = -1;
    for (char c : text) {
        if (c == ' ' || c == '\n')
            continue;
        if (high < 0) {
            high = nibble(c);
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | nibble(c)));
            high = -1;
        }
    }
    if (high >= 0)
        throw std::invalid_argument("odd hex");
    return out;
}

inline std::string to_hex(const Bytes& bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

// Compares as hex text, so that a failure prints both sides readably.
#define CHECK_BYTES(actual, expected) CHECK(ike_test::to_hex(actual) == ike_test::to_hex(expected))

inline Bytes concat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const Bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

inline void put16(Bytes& b, std::size_t at, std::size_t v)
{
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}
inline void put32(Bytes& b, std::size_t at, std::size_t v)
{
    put16(b, at, v >> 16);
    put16(b, at + 2, v & 0xffff);
}

// One payload: the generic header (RFC 7296 section 3.2) with a right Payload
// Length, then the body.
inline Bytes payload(mesh::ike::PayloadType next, const Bytes& body, bool critical = false)
{
    Bytes out{static_cast<std::uint8_t>(next), static_cast<std::uint8_t>(critical ? 0x80 : 0), 0, 0};
    put16(out, 2, 4 + body.size());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

// An IKE_SA_INIT request header (SPIi 0x0102030405060708, version 2.0, flag
// I, Message ID 0) with a right Length, followed by `chain`.
inline Bytes datagram(mesh::ike::PayloadType first, const Bytes& chain, std::uint8_t version = 0x20)
{
    Bytes out = hex("0102030405060708 0000000000000000");
    out.push_back(static_cast<std::uint8_t>(first));
    out.push_back(version);
    out.push_back(34);     // IKE_SA_INIT
    out.push_back(0x08);   // I
    out.insert(out.end(), {0, 0, 0, 0, 0, 0, 0, 0});
    put32(out, 24, 28 + chain.size());
    out.insert(out.end(), chain.begin(), chain.end());
    return out;
}

// A nonce body of n bytes.
inline Bytes nonce(std::size_t n) { return Bytes(n, 0x4e); }

} // namespace ike_test
