#pragma once
// IKEv2 protocol numbers (RFC 7296 section 3 and the IANA "IKEv2 Parameters"
// registry), as enums whose underlying type is the wire field's width. A
// value the enum does not name is still a valid object (the codec keeps
// whatever the peer sent): switch with a default, never assume the list is
// complete.

#include <cstdint>
#include <string>

namespace mesh::ike {

// Next Payload values (RFC 7296 section 3.2; 53 is RFC 7383's SKF).
enum class PayloadType : std::uint8_t {
    none = 0,
    sa = 33,
    ke = 34,
    id_i = 35,
    id_r = 36,
    cert = 37,
    certreq = 38,
    auth = 39,
    nonce = 40,
    notify = 41,
    delete_ = 42,
    vendor_id = 43,
    ts_i = 44,
    ts_r = 45,
    sk = 46,
    cp = 47,
    eap = 48,      // not implemented here: parsed as an unknown payload
    skf = 53,
};

// RFC 7296 section 3.1; 43 is RFC 9242's IKE_INTERMEDIATE.
enum class ExchangeType : std::uint8_t {
    ike_sa_init = 34,
    ike_auth = 35,
    create_child_sa = 36,
    informational = 37,
    ike_intermediate = 43,
};

// Protocol ID of proposals, notifications and deletes (RFC 7296 section 3.3.1).
enum class ProtocolId : std::uint8_t {
    none = 0,   // a Notify about no SA in particular
    ike = 1,
    ah = 2,
    esp = 3,
};

// Transform types, transform IDs, DH groups and the Key Length attribute
// type are in crypto_suite.hpp, with the algorithms they name.

// RFC 7296 section 3.5.
enum class IdType : std::uint8_t {
    ipv4_addr = 1,
    fqdn = 2,
    rfc822_addr = 3,
    ipv6_addr = 5,
    der_asn1_dn = 9,
    der_asn1_gn = 10,
    key_id = 11,
};

// RFC 7296 section 3.6.
enum class CertEncoding : std::uint8_t {
    pkcs7_wrapped_x509 = 1,
    pgp = 2,
    dns_signed_key = 3,
    x509_signature = 4,
    kerberos_token = 6,
    crl = 7,
    arl = 8,
    spki = 9,
    x509_attribute = 10,
    raw_rsa_key = 11,
    hash_url_x509 = 12,
    hash_url_x509_bundle = 13,
};

// RFC 7296 section 3.8, RFC 4754 (ECDSA), RFC 7427 (Digital Signature).
enum class AuthMethod : std::uint8_t {
    rsa_signature = 1,
    shared_key_mic = 2,
    dss_signature = 3,
    ecdsa_sha256_p256 = 9,
    ecdsa_sha384_p384 = 10,
    ecdsa_sha512_p521 = 11,
    digital_signature = 14,
};

// RFC 7296 section 3.10.1; the ones after 16395 come from the RFC named beside them.
enum class NotifyType : std::uint16_t {
    // Errors (0..16383): an unknown error type in a response means the request failed.
    unsupported_critical_payload = 1,
    invalid_ike_spi = 4,
    invalid_major_version = 5,
    invalid_syntax = 7,
    invalid_message_id = 9,
    invalid_spi = 11,
    no_proposal_chosen = 14,
    invalid_ke_payload = 17,
    authentication_failed = 24,
    single_pair_required = 34,
    no_additional_sas = 35,
    internal_address_failure = 36,
    failed_cp_required = 37,
    ts_unacceptable = 38,
    invalid_selectors = 39,
    unacceptable_addresses = 40,    // RFC 4555
    unexpected_nat_detected = 41,   // RFC 4555
    temporary_failure = 43,
    child_sa_not_found = 44,
    // Status (16384..65535): unknown ones are ignored.
    initial_contact = 16384,
    set_window_size = 16385,
    additional_ts_possible = 16386,
    ipcomp_supported = 16387,
    nat_detection_source_ip = 16388,
    nat_detection_destination_ip = 16389,
    cookie = 16390,
    use_transport_mode = 16391,
    http_cert_lookup_supported = 16392,
    rekey_sa = 16393,
    esp_tfc_padding_not_supported = 16394,
    non_first_fragments_also = 16395,
    mobike_supported = 16396,             // RFC 4555
    additional_ip4_address = 16397,
    additional_ip6_address = 16398,
    no_additional_addresses = 16399,
    update_sa_addresses = 16400,
    cookie2 = 16401,
    no_nats_allowed = 16402,
    auth_lifetime = 16403,                // RFC 4478
    multiple_auth_supported = 16404,      // RFC 4739
    another_auth_follows = 16405,
    redirect_supported = 16406,           // RFC 5685
    redirect = 16407,
    redirected_from = 16408,
    ikev2_fragmentation_supported = 16430,   // RFC 7383
    signature_hash_algorithms = 16431,       // RFC 7427
};

// The registry's name of an error notify, as operators search logs for it
// ("TS_UNACCEPTABLE"), or "notify N" for one without a name here.
[[nodiscard]] inline std::string notify_name(NotifyType type)
{
    switch (type) {
    case NotifyType::unsupported_critical_payload: return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case NotifyType::invalid_syntax: return "INVALID_SYNTAX";
    case NotifyType::no_proposal_chosen: return "NO_PROPOSAL_CHOSEN";
    case NotifyType::invalid_ke_payload: return "INVALID_KE_PAYLOAD";
    case NotifyType::authentication_failed: return "AUTHENTICATION_FAILED";
    case NotifyType::single_pair_required: return "SINGLE_PAIR_REQUIRED";
    case NotifyType::no_additional_sas: return "NO_ADDITIONAL_SAS";
    case NotifyType::internal_address_failure: return "INTERNAL_ADDRESS_FAILURE";
    case NotifyType::failed_cp_required: return "FAILED_CP_REQUIRED";
    case NotifyType::ts_unacceptable: return "TS_UNACCEPTABLE";
    case NotifyType::invalid_selectors: return "INVALID_SELECTORS";
    case NotifyType::temporary_failure: return "TEMPORARY_FAILURE";
    case NotifyType::child_sa_not_found: return "CHILD_SA_NOT_FOUND";
    default: return "notify " + std::to_string(static_cast<int>(type));
    }
}

// Types below 16384 report errors (RFC 7296 section 3.10.1).
[[nodiscard]] constexpr bool is_error(NotifyType type) noexcept
{
    return static_cast<std::uint16_t>(type) < 16384;
}

// RFC 7296 section 3.13.1.
enum class TsType : std::uint8_t {
    ipv4_addr_range = 7,
    ipv6_addr_range = 8,
};

// RFC 7296 section 3.15.
enum class CfgType : std::uint8_t {
    request = 1,
    reply = 2,
    set = 3,
    ack = 4,
};

// Configuration attribute types (RFC 7296 section 3.15.1).
namespace cfg_attribute {
inline constexpr std::uint16_t internal_ip4_address = 1;
inline constexpr std::uint16_t internal_ip4_netmask = 2;
inline constexpr std::uint16_t internal_ip4_dns = 3;
inline constexpr std::uint16_t internal_ip4_nbns = 4;
inline constexpr std::uint16_t internal_ip4_dhcp = 6;
inline constexpr std::uint16_t application_version = 7;
inline constexpr std::uint16_t internal_ip6_address = 8;
inline constexpr std::uint16_t internal_ip6_dns = 10;
inline constexpr std::uint16_t internal_ip6_dhcp = 12;
inline constexpr std::uint16_t internal_ip4_subnet = 13;
inline constexpr std::uint16_t supported_attributes = 14;
inline constexpr std::uint16_t internal_ip6_subnet = 15;
} // namespace cfg_attribute

} // namespace mesh::ike
