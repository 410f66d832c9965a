#pragma once
// X.509 for IKEv2 certificate authentication: our own certificate and key,
// the CA a peer's certificate must chain to, the match of a certificate
// against an IKE identity, and the CERT / CERTREQ payload data.
//
//   start-up   load_credentials(certificate, private-key)   -> LocalCredentials
//              TrustAnchor::load(ca, crl)                     -> TrustAnchor
//   IKE_AUTH   CERTREQ out: certreq_payload(anchor)           (RFC 7296 section 3.7)
//              CERT out:    cert_payload(credentials.certificate)  (section 3.6)
//              CERT in:     x509_chain(payloads) -> anchor.validate(chain, now)
//                           -> certificate_matches(cert, IDi/IDr)
//                           -> verify_auth(cert.subject_public_key(), ...)  (signature_auth.hpp)
//
// Everything that reads a peer's bytes returns errors as values and never
// throws; the loaders run at start-up and throw FileError naming the file, as
// configuration errors do.

#include "ike/payloads.hpp"
#include "ike/policy.hpp"

#include <botan/pk_keys.h>
#include <botan/x509_crl.h>
#include <botan/x509cert.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace mesh::ike {

// What the loaders throw: what() is "FILE: message"; path() is FILE, so the
// configuration can point at the key that names it.
class FileError : public std::runtime_error {
public:
    FileError(std::filesystem::path path, const std::string& message)
        : std::runtime_error(path.string() + ": " + message), path_(std::move(path))
    {
    }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

// Caps on what a peer's CERT payloads may make validate() parse. A chain of
// an end-entity certificate and a few intermediates fits with room to spare.
inline constexpr std::size_t max_certificate_chain = 8;         // certificates per chain
inline constexpr std::size_t max_certificate_size = 16 * 1024;  // bytes of DER per certificate

// ---------------------------------------------------------------------------
// Our certificate and private key

struct LocalCredentials {
    Botan::X509_Certificate certificate;
    std::unique_ptr<Botan::Private_Key> key;   // RSA or ECDSA
    // The further certificates of the certificate file (a chain file: ours,
    // then the intermediates up to the root CA), sent after ours so a peer
    // that only knows the root can build the path.
    std::vector<Botan::X509_Certificate> intermediates;
};

// The private key of a PEM file: PKCS#8 ("BEGIN PRIVATE KEY"), SEC1 ("BEGIN
// EC PRIVATE KEY", the curve named in its parameters) or PKCS#1 ("BEGIN RSA
// PRIVATE KEY"). Encrypted keys are refused: the daemon has nobody to ask for
// a passphrase. Only RSA and ECDSA keys, the ones IKE signs with here.
// Throws FileError.
[[nodiscard]] std::unique_ptr<Botan::Private_Key> load_private_key(const std::filesystem::path& key_path);

// The certificate (PEM or DER; the first of a PEM file, the others being its
// intermediates) and its private key.
// Throws FileError when either does not load or the key is not the
// certificate's (then naming the key).
[[nodiscard]] LocalCredentials load_credentials(const std::filesystem::path& cert_path,
                                                const std::filesystem::path& key_path);

// Whether key is the private half of the certificate's public key.
[[nodiscard]] bool key_matches_certificate(const Botan::Private_Key& key, const Botan::X509_Certificate& certificate);

// ---------------------------------------------------------------------------
// Path validation

// The CA (or CAs: every certificate of the file is one) a peer's certificate
// must chain to, and the CA's CRL if one is configured. A CA must be a root
// (self-signed): Botan builds a path until it reaches a self-signed
// certificate. Revocation information is not required (strongSwan's default,
// strictcrlpolicy = no): without a CRL, or for a certificate the CRL is not
// about, nothing is revoked, and a CRL past its next update counts as no CRL
// rather than failing every peer; but a certificate listed in the CRL fails,
// stale CRL or not. The daemon should warn of a stale CRL (crl_is_current).
class TrustAnchor {
public:
    explicit TrustAnchor(std::vector<Botan::X509_Certificate> cas, std::optional<Botan::X509_CRL> crl = std::nullopt);

    // Throws FileError: no certificate in ca_path,
    // one that is not a self-signed CA, an unreadable CRL, or a CRL that none
    // of the CAs signed.
    [[nodiscard]] static TrustAnchor load(const std::filesystem::path& ca_path,
                                          const std::optional<std::filesystem::path>& crl_path = std::nullopt);

    // der_chain: the end-entity certificate first, then intermediates in any
    // order (the X.509 CERT payloads as received). The end-entity
    // certificate, or why it is not to be trusted at `now`:
    //   "certificate expired", "certificate not yet valid",
    //   "certificate revoked", "not signed by the configured CA",
    //   "issued by a certificate that is not a CA", ...
    // then ": dn:<subject of the certificate concerned>". Never throws.
    [[nodiscard]] std::expected<Botan::X509_Certificate, std::string>
    validate(std::span<const std::vector<std::uint8_t>> der_chain, std::chrono::system_clock::time_point now) const;

    // False when the CRL is past its next update (or before its this update).
    [[nodiscard]] bool crl_is_current(std::chrono::system_clock::time_point now) const;

    [[nodiscard]] const std::vector<Botan::X509_Certificate>& cas() const noexcept { return cas_; }
    [[nodiscard]] const std::optional<Botan::X509_CRL>& crl() const noexcept { return crl_; }

private:
    std::vector<Botan::X509_Certificate> cas_;
    std::optional<Botan::X509_CRL> crl_;
};

// ---------------------------------------------------------------------------
// Identities

// Whether the certificate vouches for the identity (RFC 4945 section 3.1):
//   fqdn         a subjectAltName dNSName, compared without regard to ASCII case
//   user-fqdn    a subjectAltName rfc822Name, likewise
//   address      a subjectAltName iPAddress (IPv4 or IPv6), byte for byte
//   dn           the subject DN, compared as identity.hpp's matches() does
//   key-id, der_asn1_gn: never (a key ID names no part of a certificate)
// The subject's CN is not a name here, as in strongSwan: put it in a SAN.
[[nodiscard]] bool certificate_matches(const Botan::X509_Certificate& certificate, const Identity& id);

// The subject DN as an ID_DER_ASN1_DN identity (its DER as the certificate
// holds it): the default my-id when authenticating with a certificate.
[[nodiscard]] Identity identity_of(const Botan::X509_Certificate& certificate);

// ---------------------------------------------------------------------------
// CERT and CERTREQ payloads (RFC 7296 sections 3.6 and 3.7)

// One CA's entry of a CERTREQ: the SHA-1 of its subjectPublicKeyInfo, the
// whole DER SEQUENCE (algorithm and key), 20 bytes.
[[nodiscard]] std::vector<std::uint8_t> certreq_data(const Botan::X509_Certificate& ca);

// A CERTREQ (X.509 Certificate - Signature) naming every CA of the anchor.
[[nodiscard]] CertreqPayload certreq_payload(const TrustAnchor& anchor);

// Whether a received CERTREQ's data (concatenated 20-byte hashes) names the CA;
// false for data that is not a whole number of hashes.
[[nodiscard]] bool certreq_names(std::span<const std::uint8_t> certreq_data, const Botan::X509_Certificate& ca);

// A CERT payload of encoding X.509 Certificate - Signature (4) with the DER.
[[nodiscard]] CertPayload cert_payload(const Botan::X509_Certificate& certificate);

// Our CERT payloads: our certificate first (its key verifies our AUTH,
// RFC 7296 section 3.6), then the intermediates.
[[nodiscard]] std::vector<CertPayload> cert_payloads(const LocalCredentials& credentials);

// The DER of the X.509 Certificate - Signature payloads, in message order
// (the first is the end-entity certificate, RFC 7296 section 3.6); payloads
// of other encodings are skipped.
[[nodiscard]] std::vector<std::vector<std::uint8_t>> x509_chain(std::span<const CertPayload* const> payloads);

} // namespace mesh::ike
