#pragma once
// An IKEv2 message (RFC 7296 section 3) as a value: the IKE header and the
// list of payloads, each payload a std::variant alternative found by type.
//
//   parse(datagram)          header -> payload chain -> per payload: layout, then is_valid()
//   serialize(message)       the same, backwards; Next Payload and every Length computed here
//
// Encrypted messages: the outer chain ends with an SK (or SKF) payload whose
// body is IV || ciphertext || ICV. The caller decrypts the body and parses the
// plaintext with parse_payload_chain(sk.first_payload, plaintext). To send, it
// serializes the inner payloads with serialize_payload_chain(), encrypts them
// with associated_data(message, body_length) as AEAD associated data (RFC 5282
// section 5.1), puts IV || ciphertext || ICV into the SK body and serializes
// the message. The datagram is the IKE message itself: on port 4500 the
// caller strips (or adds) the four-byte non-ESP marker first.

#include "ike/constants.hpp"
#include "ike/cp_payload.hpp"
#include "ike/parse_error.hpp"
#include "ike/payloads.hpp"
#include "ike/sa_payload.hpp"
#include "ike/ts_payload.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <variant>
#include <vector>

namespace mesh::ike {

// RFC 7296 section 3.1, the IKE header.
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                       IKE SA Initiator's SPI                  |
//    |                                                               |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                       IKE SA Responder's SPI                  |
//    |                                                               |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                          Message ID                           |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                            Length                             |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//    Flags:  +-+-+-+-+-+-+-+-+
//            |X|X|R|V|I|X|X|X|
//            +-+-+-+-+-+-+-+-+
//
// Next Payload and Length are not kept: serialize() computes them.
struct Header {
    std::uint64_t spi_i = 0;
    std::uint64_t spi_r = 0;
    std::uint8_t major_version = 2;
    std::uint8_t minor_version = 0;   // sent as 0, ignored on receipt
    ExchangeType exchange_type = ExchangeType::ike_sa_init;
    bool response = false;    // R
    bool version = false;     // V: the sender could speak a higher major version
    bool initiator = false;   // I: sent by the original initiator of the IKE SA
    std::uint32_t message_id = 0;

    template <class Self, class Io>
    static void layout(Self& h, Io& io, PayloadType& next_payload, std::uint32_t& length)
    {
        io.u64(h.spi_i);
        io.u64(h.spi_r);
        io.u8(next_payload);
        io.packed8(layout::field(h.major_version, 4, 4), layout::field(h.minor_version, 0, 4));
        io.u8(h.exchange_type);
        io.packed8(layout::flag(h.response, 5), layout::flag(h.version, 4), layout::flag(h.initiator, 3));
        io.u32(h.message_id);
        io.u32(length);
    }

    friend bool operator==(const Header&, const Header&) = default;
};

using Payload = std::variant<SaPayload, KePayload, IdiPayload, IdrPayload, CertPayload, CertreqPayload,
                             AuthPayload, NoncePayload, NotifyPayload, DeletePayload, VendorIdPayload,
                             TsiPayload, TsrPayload, SkPayload, SkfPayload, CpPayload, UnknownPayload>;

[[nodiscard]] PayloadType payload_type(const Payload& payload) noexcept;

// Lookups over any payload list: a message's, or the inner chain of an SK.
template <class T>
[[nodiscard]] const T* find(std::span<const Payload> payloads) noexcept
{
    for (const Payload& p : payloads)
        if (const T* found = std::get_if<T>(&p))
            return found;
    return nullptr;
}
template <class T>
[[nodiscard]] std::vector<const T*> find_all(std::span<const Payload> payloads)
{
    std::vector<const T*> all;
    for (const Payload& p : payloads)
        if (const T* found = std::get_if<T>(&p))
            all.push_back(found);
    return all;
}
[[nodiscard]] const NotifyPayload* find_notify(std::span<const Payload> payloads, NotifyType type) noexcept;
// The first Notify of an error type (below 16384, section 3.10.1), the one that refuses a request.
[[nodiscard]] const NotifyPayload* first_error(std::span<const Payload> payloads) noexcept;

struct Message {
    Header header;
    std::vector<Payload> payloads;

    template <class T>
    [[nodiscard]] const T* find() const noexcept { return ike::find<T>(payloads); }
    template <class T>
    [[nodiscard]] T* find() noexcept
    {
        for (Payload& p : payloads)
            if (T* found = std::get_if<T>(&p))
                return found;
        return nullptr;
    }
    template <class T>
    [[nodiscard]] std::vector<const T*> find_all() const { return ike::find_all<T>(payloads); }
    [[nodiscard]] const NotifyPayload* find_notify(NotifyType type) const noexcept
    {
        return ike::find_notify(payloads, type);
    }

    friend bool operator==(const Message&, const Message&) = default;
};

// The header alone, decoded but not judged (any version, any Length): what a
// caller needs to answer a datagram that parse() refused, e.g. with
// INVALID_MAJOR_VERSION or UNSUPPORTED_CRITICAL_PAYLOAD. Fails only when
// there are fewer than 28 bytes.
[[nodiscard]] std::expected<Header, ParseError> parse_header(std::span<const std::uint8_t> datagram) noexcept;

// A whole IKE message: the header (major version 2, Length equal to the
// datagram's size), then the payload chain, each payload's layout and
// semantic checks. Unknown payloads without the critical bit are kept as
// UnknownPayload; SK or SKF must be the last payload.
[[nodiscard]] std::expected<Message, ParseError> parse(std::span<const std::uint8_t> datagram);

// The datagram for `message`: Next Payload, the Lengths and the header's
// Length computed here. Empty when the message cannot be encoded as it is:
// a field longer than its length field allows, a list over the caps of
// limits.hpp, a traffic selector whose addresses are not of its type, an SK or
// SKF payload that is not last, an UnknownPayload of type none or of a
// type this codec implements. parse() would refuse none of what it returns
// for a message it parsed.
[[nodiscard]] std::vector<std::uint8_t> serialize(const Message& message);

// A chain of payloads that ends with Next Payload 0, such as the plaintext of
// an SK payload (its padding and Pad Length already removed), starting with
// the payload of type `first`. SK and SKF are refused inside a chain.
[[nodiscard]] std::expected<std::vector<Payload>, ParseError> parse_payload_chain(PayloadType first,
                                                                                std::span<const std::uint8_t> bytes);

// The plaintext to encrypt into an SK payload whose first_payload is
// payload_type(payloads.front()) (none for an empty list). Empty on the same
// conditions as serialize().
[[nodiscard]] std::vector<std::uint8_t> serialize_payload_chain(std::span<const Payload> payloads);

// What the SK (or SKF) payload's cipher authenticates besides its own body:
// every byte of the message in front of the body, i.e. the IKE header, any
// payloads before SK, and SK's generic header (with SKF's fragment numbers).
// For AEAD it is the associated data (RFC 5282 section 5.1, RFC 7383 section
// 2.5.3); for cipher + integrity the ICV covers it followed by IV and
// ciphertext (RFC 7296 section 3.14).
//
// To send: the lengths in it are those of a body of `body_length` bytes (IV,
// padded ciphertext and ICV), whatever body the message holds now; then
// serialize(message with that body) == associated_data(...) || body. Empty
// when the last payload is not SK or SKF, or on serialize()'s conditions.
[[nodiscard]] std::vector<std::uint8_t> associated_data(const Message& message, std::size_t body_length);
// On receipt: the first datagram.size() - body_length bytes of the datagram
// the message was parsed from (body_length: the size of its SK or SKF body).
[[nodiscard]] std::span<const std::uint8_t> associated_data(std::span<const std::uint8_t> datagram,
                                                            std::size_t body_length) noexcept;

} // namespace mesh::ike
