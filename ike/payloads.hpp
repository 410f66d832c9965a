#pragma once
// The IKEv2 payloads other than SA, TS and CP (RFC 7296 section 3, RFC 7383
// section 2.5), each a plain value with its wire layout described once.
//
// Every payload starts with the generic payload header (section 3.2), which
// the payload chain of message.cpp reads and writes; the descriptions here
// cover the bytes after it, the body:
//
//                         1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Next Payload  |C|  RESERVED   |         Payload Length        |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

#include "ike/constants.hpp"
#include "ike/crypto_suite.hpp"
#include "ike/layout.hpp"
#include "ike/limits.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace mesh::ike {

// RFC 7296 section 3.4, Key Exchange.
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |   Diffie-Hellman Group Num    |           RESERVED            |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                       Key Exchange Data                       ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct KePayload {
    static constexpr PayloadType type = PayloadType::ke;

    DhGroup dh_group = DhGroup::none;   // any number the peer sends, named or not
    std::vector<std::uint8_t> data;

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        io.u16(p.dh_group);
        io.reserved(2);
        io.rest(p.data);
    }
    friend bool operator==(const KePayload&, const KePayload&) = default;
};

// RFC 7296 section 3.5, Identification (IDi and IDr share the layout).
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |   ID Type     |                 RESERVED                      |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                   Identification Data                         ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
template <PayloadType Type>
struct IdPayload {
    static constexpr PayloadType type = Type;

    IdType id_type = IdType::fqdn;
    std::vector<std::uint8_t> data;   // 4 bytes for IPV4_ADDR, 16 for IPV6_ADDR
    // Sent as zero, but kept as received: AUTH covers the body as the peer
    // sent it, RESERVED included (section 2.15).
    std::array<std::uint8_t, 3> reserved{};

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        io.u8(p.id_type);
        io.u8(p.reserved[0]);
        io.u8(p.reserved[1]);
        io.u8(p.reserved[2]);
        io.rest(p.data);
    }
    friend bool operator==(const IdPayload&, const IdPayload&) = default;
};
using IdiPayload = IdPayload<PayloadType::id_i>;
using IdrPayload = IdPayload<PayloadType::id_r>;

// RFC 7296 sections 3.6 (Certificate) and 3.7 (Certificate Request).
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Cert Encoding |                                               |
//    +-+-+-+-+-+-+-+-+                                               |
//    ~       Certificate Data / Certification Authority              ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// A CERTREQ's data is a list of 20-byte SHA-1 hashes of CA public keys.
template <PayloadType Type>
struct CertLikePayload {
    static constexpr PayloadType type = Type;

    CertEncoding encoding = CertEncoding::x509_signature;
    std::vector<std::uint8_t> data;

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        io.u8(p.encoding);
        io.rest(p.data);
    }
    friend bool operator==(const CertLikePayload&, const CertLikePayload&) = default;
};
using CertPayload = CertLikePayload<PayloadType::cert>;
using CertreqPayload = CertLikePayload<PayloadType::certreq>;

// RFC 7296 section 3.8, Authentication.
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Auth Method   |                RESERVED                       |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                      Authentication Data                      ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct AuthPayload {
    static constexpr PayloadType type = PayloadType::auth;

    AuthMethod method = AuthMethod::shared_key_mic;
    std::vector<std::uint8_t> data;

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        io.u8(p.method);
        io.reserved(3);
        io.rest(p.data);
    }
    friend bool operator==(const AuthPayload&, const AuthPayload&) = default;
};

// RFC 7296 section 3.9, Nonce (Ni, Nr): 16 to 256 bytes.
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                            Nonce Data                         ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct NoncePayload {
    static constexpr PayloadType type = PayloadType::nonce;

    std::vector<std::uint8_t> data;

    template <class Self, class Io>
    static void layout(Self& p, Io& io) { io.rest(p.data); }
    friend bool operator==(const NoncePayload&, const NoncePayload&) = default;
};

// RFC 7296 section 3.10, Notify.
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |  Protocol ID  |   SPI Size    |      Notify Message Type      |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                Security Parameter Index (SPI)                 ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                       Notification Data                       ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Protocol ID and SPI name a Child SA (REKEY_SA, INVALID_SELECTORS,
// CHILD_SA_NOT_FOUND); otherwise the SPI is empty and the protocol 0.
struct NotifyPayload {
    static constexpr PayloadType type = PayloadType::notify;

    ProtocolId protocol_id = ProtocolId::none;
    NotifyType notify_type = NotifyType::initial_contact;
    std::vector<std::uint8_t> spi;    // 0, 4 or 8 bytes
    std::vector<std::uint8_t> data;

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        io.u8(p.protocol_id);
        std::uint8_t spi_size = 0;
        io.measure(p.spi, spi_size);
        io.u8(spi_size);
        io.u16(p.notify_type);
        io.bytes(p.spi, spi_size);
        io.rest(p.data);
    }
    friend bool operator==(const NotifyPayload&, const NotifyPayload&) = default;
};

// RFC 7296 section 3.11, Delete.
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Protocol ID   |   SPI Size    |          Num of SPIs          |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~               Security Parameter Index(es) (SPI)              ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// SPI Size is 0 for IKE (the SA is the one of the header, no SPIs) and 4 for
// AH and ESP: those are the only sizes the layout accepts.
struct DeletePayload {
    static constexpr PayloadType type = PayloadType::delete_;

    ProtocolId protocol_id = ProtocolId::esp;
    std::vector<std::uint32_t> spis;   // the SPIs the sender receives on

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        io.u8(p.protocol_id);
        auto spi_size = static_cast<std::uint8_t>(p.spis.empty() ? 0 : 4);
        io.u8(spi_size);
        std::uint16_t num_spis = 0;
        io.measure(p.spis, num_spis);
        io.u16(num_spis);
        if (spi_size != 0 && spi_size != 4)
            return io.fail(ParseErrc::invalid_syntax);
        if (spi_size == 0 && num_spis != 0)
            return io.fail(ParseErrc::invalid_syntax);
        io.array(p.spis, num_spis, 4, limits::max_delete_spis);
    }
    friend bool operator==(const DeletePayload&, const DeletePayload&) = default;
};

// RFC 7296 section 3.12, Vendor ID.
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                        Vendor ID (VID)                        ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct VendorIdPayload {
    static constexpr PayloadType type = PayloadType::vendor_id;

    std::vector<std::uint8_t> data;

    template <class Self, class Io>
    static void layout(Self& p, Io& io) { io.rest(p.data); }
    friend bool operator==(const VendorIdPayload&, const VendorIdPayload&) = default;
};

// RFC 7296 section 3.14, Encrypted and Authenticated (SK).
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Next Payload  |C|  RESERVED   |         Payload Length        |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                     Initialization Vector                     |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                    Encrypted IKE Payloads                     ~
//    +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |               |             Padding (0-255 octets)            |
//    +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
//    |                                               |  Pad Length   |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                    Integrity Checksum Data                    ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The codec keeps the body (IV || ciphertext || ICV) as bytes; the cipher
// lives elsewhere. Its Next Payload is the type of the first payload inside,
// kept as `first_payload`. SK is always the last payload of a message.
struct SkPayload {
    static constexpr PayloadType type = PayloadType::sk;
    static constexpr std::size_t fixed_length = 0;   // body bytes before the IV

    PayloadType first_payload = PayloadType::none;
    std::vector<std::uint8_t> body;

    template <class Self, class Io>
    static void layout(Self& p, Io& io) { io.rest(p.body); }
    friend bool operator==(const SkPayload&, const SkPayload&) = default;
};

// RFC 7383 section 2.5, Encrypted Fragment (SKF).
//
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | Next Payload  |C|  RESERVED   |         Payload Length        |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |        Fragment Number        |        Total Fragments        |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |                     Initialization Vector                     |
//    ~                      Encrypted content                        ~
//    ~                    Integrity Checksum Data                    ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Next Payload is the first inner payload's type in fragment 1 and 0 in the
// others. Fragment Number and Total Fragments are authenticated with the
// header (section 2.5.3).
struct SkfPayload {
    static constexpr PayloadType type = PayloadType::skf;
    static constexpr std::size_t fixed_length = 4;

    PayloadType first_payload = PayloadType::none;
    std::uint16_t fragment_number = 1;
    std::uint16_t total_fragments = 1;
    std::vector<std::uint8_t> body;   // IV || encrypted content || ICV

    template <class Self, class Io>
    static void layout(Self& p, Io& io)
    {
        io.u16(p.fragment_number);
        io.u16(p.total_fragments);
        io.rest(p.body);
    }
    friend bool operator==(const SkfPayload&, const SkfPayload&) = default;
};

// A payload of a type this codec does not implement. The parser keeps it only
// when its critical bit is clear (RFC 7296 section 2.5: skip it); with the
// bit set the whole message is refused as unsupported_critical.
struct UnknownPayload {
    PayloadType type = PayloadType::none;
    bool critical = false;
    std::vector<std::uint8_t> body;

    template <class Self, class Io>
    static void layout(Self& p, Io& io) { io.rest(p.body); }
    friend bool operator==(const UnknownPayload&, const UnknownPayload&) = default;
};

// The semantic rules of RFC 7296 beyond the layout.
[[nodiscard]] bool is_valid(const IdiPayload& p) noexcept;
[[nodiscard]] bool is_valid(const IdrPayload& p) noexcept;
[[nodiscard]] bool is_valid(const NoncePayload& p) noexcept;    // 16..256 bytes
[[nodiscard]] bool is_valid(const NotifyPayload& p) noexcept;   // SPI of 0, 4 or 8 bytes
[[nodiscard]] bool is_valid(const DeletePayload& p) noexcept;   // IKE: no SPIs
[[nodiscard]] bool is_valid(const SkfPayload& p) noexcept;      // 1 <= number <= total

} // namespace mesh::ike
