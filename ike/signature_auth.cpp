// Signature AUTH payloads: the RFC 7427 AlgorithmIdentifiers, the hash
// negotiation, signing, and verification of method 14 and the classic methods.

#include "ike/signature_auth.hpp"

#include <botan/asn1_obj.h>
#include <botan/ber_dec.h>
#include <botan/ec_group.h>
#include <botan/ecc_key.h>
#include <botan/pubkey.h>

#include <algorithm>
#include <array>
#include <exception>
#include <string_view>

namespace mesh::ike {
namespace {

// ---------------------------------------------------------------------------
// What each hash is called

struct HashInfo {
    SignatureHash id;
    std::string_view botan;   // Botan's name
    std::string_view oid;     // id-sha256 etc. (RFC 5754 section 2)
};

// Ours, in the order the notify lists them.
constexpr std::array<HashInfo, 3> supported_hashes{{
    {SignatureHash::sha256, "SHA-256", "2.16.840.1.101.3.4.2.1"},
    {SignatureHash::sha384, "SHA-384", "2.16.840.1.101.3.4.2.2"},
    {SignatureHash::sha512, "SHA-512", "2.16.840.1.101.3.4.2.3"},
}};

const HashInfo* hash_info(SignatureHash id) noexcept
{
    const auto it = std::find_if(supported_hashes.begin(), supported_hashes.end(),
                                 [&](const HashInfo& h) { return h.id == id; });
    return it != supported_hashes.end() ? &*it : nullptr;
}

const HashInfo* hash_info_by_oid(std::string_view oid) noexcept
{
    const auto it = std::find_if(supported_hashes.begin(), supported_hashes.end(),
                                 [&](const HashInfo& h) { return h.oid == oid; });
    return it != supported_hashes.end() ? &*it : nullptr;
}

// ---------------------------------------------------------------------------
// The AlgorithmIdentifiers we send, byte for byte as RFC 7427 Appendix A
// writes them: A.1 (PKCS#1 v1.5, parameters NULL) and A.3 (ECDSA, parameters
// absent, RFC 5758 section 3.2).

constexpr std::array<std::uint8_t, 15> sha256_with_rsa{
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
constexpr std::array<std::uint8_t, 15> sha384_with_rsa{
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00};
constexpr std::array<std::uint8_t, 15> sha512_with_rsa{
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00};
constexpr std::array<std::uint8_t, 12> ecdsa_with_sha256{
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
constexpr std::array<std::uint8_t, 12> ecdsa_with_sha384{
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
constexpr std::array<std::uint8_t, 12> ecdsa_with_sha512{
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};

// ---------------------------------------------------------------------------
// Schemes

enum class SchemeKind : std::uint8_t { rsa_pkcs1, rsa_pss, ecdsa };

struct Scheme {
    SchemeKind kind = SchemeKind::rsa_pkcs1;
    const HashInfo* hash = nullptr;
    std::size_t salt_length = 0;   // RSASSA-PSS only
};

std::string_view key_type_of(SchemeKind kind) noexcept
{
    return kind == SchemeKind::ecdsa ? "ECDSA" : "RSA";
}

std::string emsa_of(const Scheme& scheme)
{
    const std::string hash(scheme.hash->botan);
    switch (scheme.kind) {
    case SchemeKind::rsa_pkcs1: return "EMSA3(" + hash + ")";
    case SchemeKind::rsa_pss: return "PSSR(" + hash + ",MGF1," + std::to_string(scheme.salt_length) + ")";
    case SchemeKind::ecdsa: return "EMSA1(" + hash + ")";
    }
    return {};
}

// RFC 4055 section 3.1:
//   RSASSA-PSS-params ::= SEQUENCE {
//     hashAlgorithm      [0] HashAlgorithm    DEFAULT sha1,
//     maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
//     saltLength         [2] INTEGER          DEFAULT 20,
//     trailerField       [3] TrailerField     DEFAULT trailerFieldBC (1) }
// Taken: SHA-256/384/512, MGF1 with that same hash, trailer 1.
std::expected<Scheme, std::string> pss_scheme(const std::vector<std::uint8_t>& params)
{
    if (params.empty())
        return std::unexpected(std::string("RSASSA-PSS with the default parameters (SHA-1) is not accepted"));
    const auto explicit_tag = Botan::ASN1_Tag(Botan::CONSTRUCTED | Botan::CONTEXT_SPECIFIC);
    const Botan::AlgorithmIdentifier sha1(Botan::OID("1.3.14.3.2.26"), Botan::AlgorithmIdentifier::USE_NULL_PARAM);
    Botan::AlgorithmIdentifier hash_alg;
    Botan::AlgorithmIdentifier mgf_alg;
    std::size_t salt_length = 0;
    std::size_t trailer = 0;
    Botan::BER_Decoder outer(params);
    Botan::BER_Decoder seq = outer.start_cons(Botan::SEQUENCE);
    seq.decode_optional(hash_alg, Botan::ASN1_Tag(0), explicit_tag, sha1);
    seq.decode_optional(mgf_alg, Botan::ASN1_Tag(1), explicit_tag,
                        Botan::AlgorithmIdentifier(Botan::OID("1.2.840.113549.1.1.8"), sha1.BER_encode()));
    seq.decode_optional(salt_length, Botan::ASN1_Tag(2), explicit_tag, std::size_t{20});
    seq.decode_optional(trailer, Botan::ASN1_Tag(3), explicit_tag, std::size_t{1});
    seq.verify_end();
    outer.verify_end();

    const HashInfo* hash = hash_info_by_oid(hash_alg.get_oid().to_string());
    if (hash == nullptr || !hash_alg.parameters_are_null_or_empty())
        return std::unexpected("RSASSA-PSS with hash " + hash_alg.get_oid().to_formatted_string() + " is not accepted");
    if (mgf_alg.get_oid().to_string() != "1.2.840.113549.1.1.8")
        return std::unexpected("RSASSA-PSS with mask generation " + mgf_alg.get_oid().to_formatted_string() +
                               " is not accepted");
    Botan::AlgorithmIdentifier mgf_hash;
    Botan::BER_Decoder(mgf_alg.get_parameters()).decode(mgf_hash).verify_end();
    if (mgf_hash.get_oid() != hash_alg.get_oid())
        return std::unexpected(std::string("RSASSA-PSS with MGF1 over another hash than the signature's"));
    if (trailer != 1)
        return std::unexpected("RSASSA-PSS with trailer field " + std::to_string(trailer));
    if (salt_length > 1024)
        return std::unexpected("RSASSA-PSS with a salt of " + std::to_string(salt_length) + " bytes");
    return Scheme{SchemeKind::rsa_pss, hash, salt_length};
}

// The scheme a method 14 AlgorithmIdentifier names, if one we take.
std::expected<Scheme, std::string> parse_scheme(std::span<const std::uint8_t> der)
{
    Botan::AlgorithmIdentifier alg;
    Botan::BER_Decoder(der.data(), der.size()).decode(alg).verify_end();
    const std::string oid = alg.get_oid().to_string();

    struct Known {
        std::string_view oid;
        SchemeKind kind;
        SignatureHash hash;
    };
    static constexpr std::array<Known, 6> known{{
        {"1.2.840.113549.1.1.11", SchemeKind::rsa_pkcs1, SignatureHash::sha256},   // sha256WithRSAEncryption
        {"1.2.840.113549.1.1.12", SchemeKind::rsa_pkcs1, SignatureHash::sha384},
        {"1.2.840.113549.1.1.13", SchemeKind::rsa_pkcs1, SignatureHash::sha512},
        {"1.2.840.10045.4.3.2", SchemeKind::ecdsa, SignatureHash::sha256},         // ecdsa-with-SHA256
        {"1.2.840.10045.4.3.3", SchemeKind::ecdsa, SignatureHash::sha384},
        {"1.2.840.10045.4.3.4", SchemeKind::ecdsa, SignatureHash::sha512},
    }};
    const auto it = std::find_if(known.begin(), known.end(), [&](const Known& k) { return k.oid == oid; });
    if (it != known.end()) {
        if (!alg.parameters_are_null_or_empty())
            return std::unexpected("unexpected parameters in the " + alg.get_oid().to_formatted_string() +
                                   " AlgorithmIdentifier");
        return Scheme{it->kind, hash_info(it->hash), 0};
    }
    if (oid == "1.2.840.113549.1.1.10")
        return pss_scheme(alg.get_parameters());
    return std::unexpected("signature algorithm " + alg.get_oid().to_formatted_string() + " (" + oid +
                           ") is not accepted");
}

std::expected<void, std::string> check_key(const Botan::Public_Key& key, std::string_view wanted_type)
{
    if (key.algo_name() != wanted_type)
        return std::unexpected("a signature algorithm for " + std::string(wanted_type) + " keys, but the key is " +
                               key.algo_name());
    if (key.estimated_strength() < min_key_strength)
        return std::unexpected("the peer's " + key.algo_name() + " key of " + std::to_string(key.key_length()) +
                               " bits is too weak");
    return {};
}

std::expected<void, std::string> verify(const Botan::Public_Key& key, const std::string& emsa,
                                        Botan::Signature_Format format, std::span<const std::uint8_t> signature,
                                        std::span<const std::uint8_t> octets)
{
    Botan::PK_Verifier verifier(key, emsa, format);
    if (!verifier.verify_message(octets.data(), octets.size(), signature.data(), signature.size()))
        return std::unexpected(std::string("the signature does not verify"));
    return {};
}

// RFC 4754 section 8: the curve each method fixes, and its hash.
struct ClassicEcdsa {
    AuthMethod method;
    std::string_view curve_oid;
    std::string_view curve_name;
    SignatureHash hash;
};
constexpr std::array<ClassicEcdsa, 3> classic_ecdsa{{
    {AuthMethod::ecdsa_sha256_p256, "1.2.840.10045.3.1.7", "P-256", SignatureHash::sha256},
    {AuthMethod::ecdsa_sha384_p384, "1.3.132.0.34", "P-384", SignatureHash::sha384},
    {AuthMethod::ecdsa_sha512_p521, "1.3.132.0.35", "P-521", SignatureHash::sha512},
}};

std::string curve_of(const Botan::Public_Key& key)
{
    const auto* ec = dynamic_cast<const Botan::EC_PublicKey*>(&key);
    return ec != nullptr ? ec->domain().get_curve_oid().to_string() : std::string();
}

std::expected<void, std::string> check_classic(const Botan::Public_Key& key, AuthMethod method,
                                               std::span<const std::uint8_t> auth_data,
                                               std::span<const std::uint8_t> octets)
{
    if (method == AuthMethod::rsa_signature) {
        if (auto ok = check_key(key, "RSA"); !ok)
            return ok;
        // RFC 7296 section 3.8: RSASSA-PKCS1-v1_5, with SHA-1 as every
        // implementation of method 1 uses.
        return verify(key, "EMSA3(SHA-160)", Botan::IEEE_1363, auth_data, octets);
    }
    const auto it = std::find_if(classic_ecdsa.begin(), classic_ecdsa.end(),
                                 [&](const ClassicEcdsa& c) { return c.method == method; });
    if (it == classic_ecdsa.end())
        return std::unexpected("auth method " + std::to_string(static_cast<unsigned>(method)) +
                               " is not a signature method we take");
    if (auto ok = check_key(key, "ECDSA"); !ok)
        return ok;
    if (curve_of(key) != it->curve_oid)
        return std::unexpected("auth method " + std::to_string(static_cast<unsigned>(method)) + " needs a " +
                               std::string(it->curve_name) + " key");
    // RFC 4754 section 7: r and s, each as long as the group order.
    const std::size_t order_bytes = dynamic_cast<const Botan::EC_PublicKey&>(key).domain().get_order_bytes();
    if (auth_data.size() != 2 * order_bytes)
        return std::unexpected("an ECDSA signature of " + std::to_string(auth_data.size()) + " bytes (expected " +
                               std::to_string(2 * order_bytes) + ")");
    return verify(key, "EMSA1(" + std::string(hash_info(it->hash)->botan) + ")", Botan::IEEE_1363, auth_data,
                  octets);
}

std::expected<void, std::string> check_digital_signature(const Botan::Public_Key& key,
                                                         std::span<const std::uint8_t> auth_data,
                                                         std::span<const std::uint8_t> octets)
{
    if (auth_data.empty())
        return std::unexpected(std::string("empty Authentication Data"));
    const std::size_t alg_length = auth_data[0];
    if (alg_length == 0 || 1 + alg_length >= auth_data.size())
        return std::unexpected("an ASN.1 Length of " + std::to_string(alg_length) + " in " +
                               std::to_string(auth_data.size()) + " bytes of Authentication Data");
    const auto scheme = parse_scheme(auth_data.subspan(1, alg_length));
    if (!scheme)
        return std::unexpected(scheme.error());
    if (auto ok = check_key(key, key_type_of(scheme->kind)); !ok)
        return ok;
    const auto format = scheme->kind == SchemeKind::ecdsa ? Botan::DER_SEQUENCE : Botan::IEEE_1363;
    return verify(key, emsa_of(*scheme), format, auth_data.subspan(1 + alg_length), octets);
}

std::optional<SignatureHash> first_listed(std::span<const std::uint8_t> peer_notify_data,
                                          std::span<const SignatureHash> preference)
{
    if (peer_notify_data.size() % 2 != 0)
        return std::nullopt;
    const auto listed = [&](SignatureHash h) {
        for (std::size_t i = 0; i < peer_notify_data.size(); i += 2) {
            const auto id = static_cast<std::uint16_t>(peer_notify_data[i] << 8 | peer_notify_data[i + 1]);
            if (id == static_cast<std::uint16_t>(h))
                return true;
        }
        return false;
    };
    const auto it = std::find_if(preference.begin(), preference.end(), listed);
    return it != preference.end() ? std::optional(*it) : std::nullopt;
}

} // namespace

// ---------------------------------------------------------------------------
// SIGNATURE_HASH_ALGORITHMS

std::vector<std::uint8_t> signature_hash_algorithms_data()
{
    std::vector<std::uint8_t> out;
    for (const HashInfo& h : supported_hashes) {
        const auto id = static_cast<std::uint16_t>(h.id);
        out.push_back(static_cast<std::uint8_t>(id >> 8));
        out.push_back(static_cast<std::uint8_t>(id & 0xff));
    }
    return out;
}

std::optional<SignatureHash> choose_signature_hash(std::span<const std::uint8_t> peer_notify_data)
{
    static constexpr std::array<SignatureHash, 3> preference{SignatureHash::sha256, SignatureHash::sha384,
                                                             SignatureHash::sha512};
    return first_listed(peer_notify_data, preference);
}

std::optional<SignatureHash> choose_signature_hash(std::span<const std::uint8_t> peer_notify_data,
                                                   const Botan::Public_Key& key)
{
    static constexpr std::array<SignatureHash, 3> for_128{SignatureHash::sha256, SignatureHash::sha384,
                                                          SignatureHash::sha512};
    static constexpr std::array<SignatureHash, 3> for_192{SignatureHash::sha384, SignatureHash::sha512,
                                                          SignatureHash::sha256};
    static constexpr std::array<SignatureHash, 3> for_256{SignatureHash::sha512, SignatureHash::sha384,
                                                          SignatureHash::sha256};
    const std::size_t strength = key.estimated_strength();
    return first_listed(peer_notify_data, strength <= 128 ? std::span<const SignatureHash>(for_128)
                                          : strength <= 192 ? std::span<const SignatureHash>(for_192)
                                                            : std::span<const SignatureHash>(for_256));
}

// ---------------------------------------------------------------------------
// Signing

std::span<const std::uint8_t> signature_algorithm_identifier(const Botan::Public_Key& key, SignatureHash hash)
{
    const std::string type = key.algo_name();
    if (type == "RSA") {
        switch (hash) {
        case SignatureHash::sha256: return sha256_with_rsa;
        case SignatureHash::sha384: return sha384_with_rsa;
        case SignatureHash::sha512: return sha512_with_rsa;
        default: return {};
        }
    }
    if (type == "ECDSA") {
        switch (hash) {
        case SignatureHash::sha256: return ecdsa_with_sha256;
        case SignatureHash::sha384: return ecdsa_with_sha384;
        case SignatureHash::sha512: return ecdsa_with_sha512;
        default: return {};
        }
    }
    return {};
}

std::expected<std::vector<std::uint8_t>, std::string> sign_auth(const Botan::Private_Key& key,
                                                                std::span<const std::uint8_t> octets,
                                                                SignatureHash hash, Botan::RandomNumberGenerator& rng)
{
    try {
        const std::span<const std::uint8_t> alg_id = signature_algorithm_identifier(key, hash);
        const HashInfo* info = hash_info(hash);
        if (alg_id.empty() || info == nullptr)
            return std::unexpected("cannot sign with a " + key.algo_name() + " key and hash " +
                                   std::to_string(static_cast<unsigned>(hash)));
        const bool ecdsa = key.algo_name() == "ECDSA";
        const Scheme scheme{ecdsa ? SchemeKind::ecdsa : SchemeKind::rsa_pkcs1, info, 0};
        Botan::PK_Signer signer(key, rng, emsa_of(scheme), ecdsa ? Botan::DER_SEQUENCE : Botan::IEEE_1363);
        const std::vector<std::uint8_t> signature = signer.sign_message(octets.data(), octets.size(), rng);

        std::vector<std::uint8_t> out;
        out.reserve(1 + alg_id.size() + signature.size());
        out.push_back(static_cast<std::uint8_t>(alg_id.size()));
        out.insert(out.end(), alg_id.begin(), alg_id.end());
        out.insert(out.end(), signature.begin(), signature.end());
        return out;
    } catch (const std::exception& e) {
        return std::unexpected(std::string("signing failed: ") + e.what());
    }
}

std::expected<AuthMethod, std::string> classic_auth_method(const Botan::Public_Key& key)
{
    const std::string type = key.algo_name();
    if (type == "RSA")
        return AuthMethod::rsa_signature;
    if (type == "ECDSA") {
        const std::string curve = curve_of(key);
        for (const ClassicEcdsa& c : classic_ecdsa) {
            if (c.curve_oid == curve)
                return c.method;
        }
        return std::unexpected("no RFC 4754 auth method for an ECDSA key on curve " + curve +
                               "; the peer must support RFC 7427 (SIGNATURE_HASH_ALGORITHMS)");
    }
    return std::unexpected("no signature auth method for a " + type + " key");
}

std::expected<std::vector<std::uint8_t>, std::string> sign_auth_classic(const Botan::Private_Key& key,
                                                                        std::span<const std::uint8_t> octets,
                                                                        Botan::RandomNumberGenerator& rng)
{
    try {
        const auto method = classic_auth_method(key);
        if (!method)
            return std::unexpected(method.error());
        std::string emsa = "EMSA3(SHA-160)";
        if (*method != AuthMethod::rsa_signature) {
            const auto it = std::find_if(classic_ecdsa.begin(), classic_ecdsa.end(),
                                         [&](const ClassicEcdsa& c) { return c.method == *method; });
            emsa = "EMSA1(" + std::string(hash_info(it->hash)->botan) + ")";
        }
        Botan::PK_Signer signer(key, rng, emsa, Botan::IEEE_1363);
        return signer.sign_message(octets.data(), octets.size(), rng);
    } catch (const std::exception& e) {
        return std::unexpected(std::string("signing failed: ") + e.what());
    }
}

std::expected<AuthPayload, std::string> make_signature_auth(const Botan::Private_Key& key,
                                                            std::optional<std::span<const std::uint8_t>> peer_hash_algorithms,
                                                            std::span<const std::uint8_t> octets,
                                                            Botan::RandomNumberGenerator& rng)
{
    if (peer_hash_algorithms) {
        if (const auto hash = choose_signature_hash(*peer_hash_algorithms, key)) {
            auto data = sign_auth(key, octets, *hash, rng);
            if (!data)
                return std::unexpected(data.error());
            return AuthPayload{AuthMethod::digital_signature, std::move(*data)};
        }
    }
    const auto method = classic_auth_method(key);
    if (!method)
        return std::unexpected(method.error());
    auto data = sign_auth_classic(key, octets, rng);
    if (!data)
        return std::unexpected(data.error());
    return AuthPayload{*method, std::move(*data)};
}

// ---------------------------------------------------------------------------
// Verifying

std::expected<void, std::string> check_auth(const Botan::Public_Key& key, AuthMethod method,
                                            std::span<const std::uint8_t> auth_data,
                                            std::span<const std::uint8_t> octets)
{
    try {
        if (method == AuthMethod::digital_signature)
            return check_digital_signature(key, auth_data, octets);
        return check_classic(key, method, auth_data, octets);
    } catch (const std::exception& e) {
        return std::unexpected(std::string("the signature does not verify: ") + e.what());
    }
}

bool verify_auth(const Botan::Public_Key& key, AuthMethod method, std::span<const std::uint8_t> auth_data,
                 std::span<const std::uint8_t> octets)
{
    return check_auth(key, method, auth_data, octets).has_value();
}

} // namespace mesh::ike
