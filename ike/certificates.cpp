// Certificates: loading at start-up, path validation of a peer's chain,
// identity checks, CERT and CERTREQ data.

#include "ike/certificates.hpp"

#include "ike/identity.hpp"
#include "ike/signature_auth.hpp"

#include <botan/asn1_obj.h>
#include <botan/ber_dec.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecc_key.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/pem.h>
#include <botan/pkcs8.h>
#include <botan/rsa.h>
#include <botan/x509path.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace mesh::ike {
namespace {

// ---------------------------------------------------------------------------
// Files and PEM

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& message)
{
    throw FileError(path, message);
}

std::string read_file(const std::filesystem::path& path)
{
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail(path, std::string("cannot open: ") + (errno != 0 ? std::strerror(errno) : "unknown error"));
    std::ostringstream out;
    out << in.rdbuf();
    if (in.bad())
        fail(path, "cannot read");
    return std::move(out).str();
}

struct PemBlock {
    std::string label;   // "PRIVATE KEY", "EC PRIVATE KEY", "CERTIFICATE", ...
    std::string text;    // from -----BEGIN to the end of its -----END line
};

// Every "-----BEGIN X----- ... -----END X-----" block of the text, in order.
// An error message for a block that does not end.
std::expected<std::vector<PemBlock>, std::string> pem_blocks(std::string_view text)
{
    static constexpr std::string_view begin = "-----BEGIN ";
    static constexpr std::string_view dashes = "-----";
    std::vector<PemBlock> out;
    std::size_t pos = 0;
    while (true) {
        const std::size_t start = text.find(begin, pos);
        if (start == std::string_view::npos)
            return out;
        const std::size_t label_at = start + begin.size();
        const std::size_t label_end = text.find(dashes, label_at);
        if (label_end == std::string_view::npos)
            return std::unexpected(std::string("a PEM BEGIN line is not closed"));
        std::string label(text.substr(label_at, label_end - label_at));
        const std::string end_line = "-----END " + label + "-----";
        const std::size_t end = text.find(end_line, label_end);
        if (end == std::string_view::npos)
            return std::unexpected("no '" + end_line + "' line");
        pos = end + end_line.size();
        out.push_back({std::move(label), std::string(text.substr(start, pos - start))});
    }
}

std::string labels_of(const std::vector<PemBlock>& blocks)
{
    std::string out;
    for (const PemBlock& b : blocks)
        out += (out.empty() ? "" : ", ") + b.label;
    return out.empty() ? "none" : out;
}

// The certificates of a file: every CERTIFICATE block of a PEM file, or the
// whole file as one DER certificate.
std::vector<Botan::X509_Certificate> read_certificates(const std::filesystem::path& path)
{
    const std::string text = read_file(path);
    const auto blocks = pem_blocks(text);
    if (!blocks)
        fail(path, blocks.error());
    std::vector<Botan::X509_Certificate> out;
    try {
        if (blocks->empty()) {
            const std::vector<std::uint8_t> der(text.begin(), text.end());
            out.emplace_back(der);
            return out;
        }
        for (const PemBlock& block : *blocks) {
            if (block.label != "CERTIFICATE")
                continue;
            const auto der = Botan::PEM_Code::decode_check_label(block.text, block.label);
            out.emplace_back(std::vector<std::uint8_t>(der.begin(), der.end()));
        }
    } catch (const std::exception& e) {
        fail(path, std::string("not a valid X.509 certificate: ") + e.what());
    }
    if (out.empty())
        fail(path, "no CERTIFICATE in the file (PEM blocks found: " + labels_of(*blocks) + ")");
    return out;
}

// ---------------------------------------------------------------------------
// Private keys

const Botan::OID& ec_public_key_oid()
{
    static const Botan::OID oid("1.2.840.10045.2.1");   // id-ecPublicKey, RFC 5480
    return oid;
}

const Botan::OID& rsa_encryption_oid()
{
    static const Botan::OID oid("1.2.840.113549.1.1.1");   // rsaEncryption, RFC 8017
    return oid;
}

// SEC1 (RFC 5915 section 3):
//   ECPrivateKey ::= SEQUENCE {
//     version        INTEGER { ecPrivkeyVer1(1) },
//     privateKey     OCTET STRING,
//     parameters [0] ECParameters {{ NamedCurve }} OPTIONAL,
//     publicKey  [1] BIT STRING OPTIONAL }
// Botan decodes the SEQUENCE but takes the curve from the AlgorithmIdentifier
// that PKCS#8 would wrap it in, so the curve is lifted out of [0] into one.
std::unique_ptr<Botan::Private_Key> sec1_key(const Botan::secure_vector<std::uint8_t>& der)
{
    Botan::BER_Decoder outer(der);
    Botan::BER_Decoder seq = outer.start_cons(Botan::SEQUENCE);
    std::size_t version = 0;
    Botan::secure_vector<std::uint8_t> private_octets;
    seq.decode(version);
    seq.decode(private_octets, Botan::OCTET_STRING);
    if (version != 1)
        throw std::runtime_error("unknown SEC1 ECPrivateKey version " + std::to_string(version));
    std::vector<std::uint8_t> curve;
    while (seq.more_items()) {
        const Botan::BER_Object obj = seq.get_next_object();
        if (obj.is_a(0, Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED)))
            curve.assign(obj.bits(), obj.bits() + obj.length());
    }
    if (curve.empty())
        throw std::runtime_error("the EC PRIVATE KEY does not name its curve (no ECParameters)");
    return std::make_unique<Botan::ECDSA_PrivateKey>(Botan::AlgorithmIdentifier(ec_public_key_oid(), curve), der);
}

std::unique_ptr<Botan::Private_Key> key_of_block(const PemBlock& block)
{
    if (block.label == "ENCRYPTED PRIVATE KEY" || block.text.find("Proc-Type: 4,ENCRYPTED") != std::string::npos)
        throw std::runtime_error("the private key is encrypted; give it unencrypted (PKCS#8, SEC1 or PKCS#1 PEM)");
    const auto der = Botan::PEM_Code::decode_check_label(block.text, block.label);
    if (block.label == "PRIVATE KEY") {
        Botan::DataSource_Memory source(der);
        return Botan::PKCS8::load_key(source);
    }
    if (block.label == "EC PRIVATE KEY")
        return sec1_key(der);
    if (block.label == "RSA PRIVATE KEY")
        return std::make_unique<Botan::RSA_PrivateKey>(
            Botan::AlgorithmIdentifier(rsa_encryption_oid(), Botan::AlgorithmIdentifier::USE_NULL_PARAM), der);
    return nullptr;
}

bool is_key_label(const std::string& label)
{
    return label == "PRIVATE KEY" || label == "ENCRYPTED PRIVATE KEY" || label == "EC PRIVATE KEY" ||
           label == "RSA PRIVATE KEY";
}

// ---------------------------------------------------------------------------
// Path validation results

std::string subject_text(const Botan::X509_Certificate& cert)
{
    return to_string(identity_of(cert));
}

std::string reason_of(Botan::Certificate_Status_Code code)
{
    using C = Botan::Certificate_Status_Code;
    switch (code) {
    case C::CERT_HAS_EXPIRED: return "certificate expired";
    case C::CERT_NOT_YET_VALID: return "certificate not yet valid";
    case C::CERT_IS_REVOKED: return "certificate revoked";
    case C::CERT_ISSUER_NOT_FOUND:
    case C::CANNOT_ESTABLISH_TRUST:
    case C::CHAIN_LACKS_TRUST_ROOT: return "not signed by the configured CA";
    case C::SIGNATURE_ERROR: return "not signed by the configured CA (the certificate signature does not verify)";
    case C::CRL_HAS_EXPIRED: return "CRL expired";
    case C::CRL_NOT_YET_VALID: return "CRL not yet valid";
    case C::CRL_BAD_SIGNATURE: return "CRL signature does not verify";
    case C::CA_CERT_NOT_FOR_CRL_ISSUER: return "the CA may not sign CRLs (key usage)";
    case C::CA_CERT_NOT_FOR_CERT_ISSUER: return "issued by a certificate that is not a CA";
    case C::CERT_CHAIN_TOO_LONG: return "chain longer than a CA's path length constraint allows";
    case C::SIGNATURE_METHOD_TOO_WEAK: return "signed with a key that is too weak";
    case C::UNTRUSTED_HASH: return "signed with an untrusted hash (SHA-1?)";
    case C::CERT_CHAIN_LOOP: return "certificate chain loops";
    default: {
        const char* text = Botan::to_string(code);
        return text != nullptr ? text : "certificate rejected (Botan status " + std::to_string(static_cast<int>(code)) + ")";
    }
    }
}

bool is_error(Botan::Certificate_Status_Code code)
{
    return code >= Botan::Certificate_Status_Code::FIRST_ERROR_STATUS;
}

bool is_stale_crl(Botan::Certificate_Status_Code code)
{
    return code == Botan::Certificate_Status_Code::CRL_HAS_EXPIRED ||
           code == Botan::Certificate_Status_Code::CRL_NOT_YET_VALID;
}

// The error to report, nullopt if there is none that counts. Revocation
// information is not required, so a CRL out of its validity period counts as
// no CRL, as strongSwan does by default; a certificate the stale CRL lists is
// still revoked (that is an error of its own). Of several errors the gravest
// in Botan's order (revoked or a bad signature before a time problem).
std::optional<Botan::Certificate_Status_Code> verdict(const Botan::Path_Validation_Result& result)
{
    const auto& statuses = result.all_statuses();
    if (statuses.empty()) {   // no path was built
        if (result.successful_validation())
            return std::nullopt;
        return result.result();
    }
    std::optional<Botan::Certificate_Status_Code> worst;
    for (const auto& codes : statuses) {
        for (const auto code : codes) {
            if (is_error(code) && !is_stale_crl(code) && (!worst || code > *worst))
                worst = code;
        }
    }
    return worst;
}

std::string describe(Botan::Certificate_Status_Code code, const Botan::Path_Validation_Result& result,
                     const Botan::X509_Certificate& end_entity)
{
    const auto& statuses = result.all_statuses();
    const auto& path = result.cert_path();
    for (std::size_t i = 0; i < statuses.size() && i < path.size(); ++i) {
        if (statuses[i].contains(code) && path[i])
            return reason_of(code) + ": " + subject_text(*path[i]);
    }
    if (code == Botan::Certificate_Status_Code::CERT_ISSUER_NOT_FOUND)
        return reason_of(code) + ": " + subject_text(end_entity) + " (issuer " +
               to_string(Identity{IdType::der_asn1_dn, end_entity.raw_issuer_dn()}) + ")";
    return reason_of(code) + ": " + subject_text(end_entity);
}

// ---------------------------------------------------------------------------
// subjectAltName (RFC 5280 section 4.2.1.6), read here rather than through
// Botan's AlternativeName, which drops IPv6 addresses.
//
//   GeneralName ::= CHOICE { rfc822Name [1] IA5String, dNSName [2] IA5String,
//                            iPAddress [7] OCTET STRING, ... }

struct AltNames {
    std::vector<std::vector<std::uint8_t>> dns;
    std::vector<std::vector<std::uint8_t>> email;
    std::vector<std::vector<std::uint8_t>> ip;
};

AltNames alt_names(const Botan::X509_Certificate& cert)
{
    AltNames out;
    try {
        static const Botan::OID san_oid("2.5.29.17");
        const Botan::Extensions& extensions = cert.v3_extensions();
        if (!extensions.extension_set(san_oid))
            return out;
        const std::vector<std::uint8_t> bits = extensions.get_extension_bits(san_oid);
        Botan::BER_Decoder outer(bits);
        Botan::BER_Decoder names = outer.start_cons(Botan::SEQUENCE);
        while (names.more_items()) {
            const Botan::BER_Object obj = names.get_next_object();
            std::vector<std::uint8_t> value(obj.bits(), obj.bits() + obj.length());
            if (obj.is_a(1, Botan::CONTEXT_SPECIFIC))
                out.email.push_back(std::move(value));
            else if (obj.is_a(2, Botan::CONTEXT_SPECIFIC))
                out.dns.push_back(std::move(value));
            else if (obj.is_a(7, Botan::CONTEXT_SPECIFIC))
                out.ip.push_back(std::move(value));
        }
    } catch (const std::exception&) {
        return {};   // an undecodable SAN names nothing
    }
    return out;
}

bool iequals(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](std::uint8_t x, std::uint8_t y) {
               return std::tolower(x) == std::tolower(y);
           });
}

bool any_iequals(const std::vector<std::vector<std::uint8_t>>& names, std::span<const std::uint8_t> wanted)
{
    return std::any_of(names.begin(), names.end(), [&](const auto& name) { return iequals(name, wanted); });
}

} // namespace

// ---------------------------------------------------------------------------
// Loading

std::unique_ptr<Botan::Private_Key> load_private_key(const std::filesystem::path& key_path)
{
    const std::string text = read_file(key_path);
    const auto blocks = pem_blocks(text);
    if (!blocks)
        fail(key_path, blocks.error());
    const PemBlock* block = nullptr;
    if (!blocks->empty()) {
        const auto found = std::find_if(blocks->begin(), blocks->end(),
                                        [](const PemBlock& b) { return is_key_label(b.label); });
        if (found == blocks->end())
            fail(key_path, "no private key in the file (PEM blocks found: " + labels_of(*blocks) +
                               "; expected PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)");
        block = &*found;
    }
    std::unique_ptr<Botan::Private_Key> key;
    try {
        if (block != nullptr) {
            key = key_of_block(*block);
        } else {
            // Not PEM: a DER PKCS#8 PrivateKeyInfo is the one binary form taken.
            const std::vector<std::uint8_t> der(text.begin(), text.end());
            Botan::DataSource_Memory source(der);
            key = Botan::PKCS8::load_key(source);
        }
    } catch (const std::exception& e) {
        fail(key_path, std::string("cannot load the private key: ") + e.what());
    }
    if (!key)
        fail(key_path, "cannot load the private key");
    if (key->algo_name() != "RSA" && key->algo_name() != "ECDSA")
        fail(key_path, "a " + key->algo_name() + " key; IKE signs with RSA or ECDSA keys here");
    if (key->estimated_strength() < min_key_strength)
        fail(key_path, "the " + key->algo_name() + " key of " + std::to_string(key->key_length()) +
                           " bits is too weak (RSA needs 2048 bits or more)");
    return key;
}

LocalCredentials load_credentials(const std::filesystem::path& cert_path, const std::filesystem::path& key_path)
{
    std::vector<Botan::X509_Certificate> certificates = read_certificates(cert_path);
    LocalCredentials out{certificates.front(), load_private_key(key_path),
                         {std::next(certificates.begin()), certificates.end()}};
    if (!key_matches_certificate(*out.key, out.certificate))
        fail(key_path, "the private key is not the one of the certificate in " + cert_path.string());
    return out;
}

bool key_matches_certificate(const Botan::Private_Key& key, const Botan::X509_Certificate& certificate)
{
    try {
        const std::unique_ptr<Botan::Public_Key> public_key = certificate.load_subject_public_key();
        if (!public_key || public_key->algo_name() != key.algo_name() ||
            public_key->public_key_bits() != key.public_key_bits())
            return false;
        const auto* ec_cert = dynamic_cast<const Botan::EC_PublicKey*>(public_key.get());
        const auto* ec_key = dynamic_cast<const Botan::EC_PublicKey*>(&key);
        if ((ec_cert == nullptr) != (ec_key == nullptr))
            return false;
        return ec_cert == nullptr || ec_cert->domain() == ec_key->domain();
    } catch (const std::exception&) {
        return false;
    }
}

// ---------------------------------------------------------------------------
// TrustAnchor

TrustAnchor::TrustAnchor(std::vector<Botan::X509_Certificate> cas, std::optional<Botan::X509_CRL> crl)
    : cas_(std::move(cas)), crl_(std::move(crl))
{
}

TrustAnchor TrustAnchor::load(const std::filesystem::path& ca_path, const std::optional<std::filesystem::path>& crl_path)
{
    std::vector<Botan::X509_Certificate> cas = read_certificates(ca_path);
    for (const auto& ca : cas) {
        if (!ca.is_CA_cert())
            fail(ca_path, subject_text(ca) + " is not a CA certificate (basicConstraints cA is not set)");
        if (!ca.is_self_signed())
            fail(ca_path, subject_text(ca) + " is not self-signed: give the root CA (intermediates come from the peer)");
    }
    if (!crl_path)
        return TrustAnchor(std::move(cas));

    std::optional<Botan::X509_CRL> crl;
    try {
        crl.emplace(crl_path->string());
    } catch (const std::exception& e) {
        fail(*crl_path, std::string("not a valid CRL: ") + e.what());
    }
    const bool issued_by_a_ca = std::any_of(cas.begin(), cas.end(), [&](const Botan::X509_Certificate& ca) {
        try {
            return crl->issuer_dn() == ca.subject_dn() && crl->check_signature(*ca.load_subject_public_key());
        } catch (const std::exception&) {
            return false;
        }
    });
    if (!issued_by_a_ca)
        fail(*crl_path, "the CRL is not signed by the CA in " + ca_path.string());
    return TrustAnchor(std::move(cas), std::move(crl));
}

bool TrustAnchor::crl_is_current(std::chrono::system_clock::time_point now) const
{
    return !crl_ || (crl_->this_update().to_std_timepoint() <= now && now <= crl_->next_update().to_std_timepoint());
}

std::expected<Botan::X509_Certificate, std::string>
TrustAnchor::validate(std::span<const std::vector<std::uint8_t>> der_chain, std::chrono::system_clock::time_point now) const
{
    if (der_chain.empty())
        return std::unexpected(std::string("no certificate"));
    if (der_chain.size() > max_certificate_chain)
        return std::unexpected("a chain of " + std::to_string(der_chain.size()) + " certificates (at most " +
                               std::to_string(max_certificate_chain) + " are taken)");
    try {
        std::vector<Botan::X509_Certificate> chain;
        chain.reserve(der_chain.size());
        for (std::size_t i = 0; i < der_chain.size(); ++i) {
            const auto& der = der_chain[i];
            const std::string which = i == 0 ? "the end-entity certificate" : "certificate " + std::to_string(i + 1);
            // A DER Certificate is a SEQUENCE; checking the tag also keeps
            // Botan from taking the bytes for PEM text.
            if (der.empty() || der.size() > max_certificate_size || der.front() != 0x30)
                return std::unexpected(which + " is not a DER certificate of at most " +
                                       std::to_string(max_certificate_size) + " bytes");
            try {
                chain.emplace_back(der);
            } catch (const std::exception& e) {
                return std::unexpected(which + " does not parse: " + e.what());
            }
        }

        Botan::Certificate_Store_In_Memory store;
        for (const auto& ca : cas_)
            store.add_certificate(ca);
        if (crl_)
            store.add_crl(*crl_);
        const Botan::Path_Validation_Restrictions restrictions(/*require_rev=*/false, min_key_strength);
        const Botan::Path_Validation_Result result =
            Botan::x509_path_validate(chain, restrictions, store, "", Botan::Usage_Type::UNSPECIFIED, now);
        const auto error = verdict(result);
        if (!error)
            return chain.front();
        return std::unexpected(describe(*error, result, chain.front()));
    } catch (const std::exception& e) {
        return std::unexpected(std::string("certificate check failed: ") + e.what());
    }
}

// ---------------------------------------------------------------------------
// Identities

bool certificate_matches(const Botan::X509_Certificate& certificate, const Identity& id)
{
    switch (id.type) {
    case IdType::fqdn: return any_iequals(alt_names(certificate).dns, id.data);
    case IdType::rfc822_addr: return any_iequals(alt_names(certificate).email, id.data);
    case IdType::ipv4_addr:
    case IdType::ipv6_addr: {
        const auto ips = alt_names(certificate).ip;
        return std::find(ips.begin(), ips.end(), id.data) != ips.end();
    }
    case IdType::der_asn1_dn: return matches(id, identity_of(certificate));
    case IdType::key_id:
    case IdType::der_asn1_gn: return false;
    }
    return false;
}

Identity identity_of(const Botan::X509_Certificate& certificate)
{
    return Identity{IdType::der_asn1_dn, certificate.raw_subject_dn()};
}

// ---------------------------------------------------------------------------
// CERT and CERTREQ

std::vector<std::uint8_t> certreq_data(const Botan::X509_Certificate& ca)
{
    const auto sha1 = Botan::HashFunction::create_or_throw("SHA-1");
    sha1->update(ca.subject_public_key_info());
    return sha1->final_stdvec();
}

CertreqPayload certreq_payload(const TrustAnchor& anchor)
{
    CertreqPayload out;
    out.encoding = CertEncoding::x509_signature;
    for (const auto& ca : anchor.cas()) {
        const auto hash = certreq_data(ca);
        out.data.insert(out.data.end(), hash.begin(), hash.end());
    }
    return out;
}

bool certreq_names(std::span<const std::uint8_t> data, const Botan::X509_Certificate& ca)
{
    constexpr std::size_t sha1_length = 20;
    if (data.empty() || data.size() % sha1_length != 0)
        return false;
    const auto wanted = certreq_data(ca);
    for (std::size_t i = 0; i < data.size(); i += sha1_length) {
        if (std::equal(wanted.begin(), wanted.end(), data.begin() + static_cast<std::ptrdiff_t>(i)))
            return true;
    }
    return false;
}

CertPayload cert_payload(const Botan::X509_Certificate& certificate)
{
    return CertPayload{CertEncoding::x509_signature, certificate.BER_encode()};
}

std::vector<CertPayload> cert_payloads(const LocalCredentials& credentials)
{
    std::vector<CertPayload> out{cert_payload(credentials.certificate)};
    for (const auto& cert : credentials.intermediates)
        out.push_back(cert_payload(cert));
    return out;
}

std::vector<std::vector<std::uint8_t>> x509_chain(std::span<const CertPayload* const> payloads)
{
    std::vector<std::vector<std::uint8_t>> out;
    for (const CertPayload* p : payloads) {
        if (p != nullptr && p->encoding == CertEncoding::x509_signature)
            out.push_back(p->data);
    }
    return out;
}

} // namespace mesh::ike
