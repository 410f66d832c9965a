#pragma once
// A small PKI made with Botan when the tests run, so no key or certificate is
// checked in and none expires on us:
//
//   root (ECDSA P-256, CA) ──┬── ecdsa_leaf     P-256, SAN dns site-a.lab, email ops@site-a.lab,
//                            │                   ip 203.0.113.1, ip 2001:db8::1
//                            ├── rsa_leaf       RSA-2048, SAN dns site-b.lab
//                            ├── p384_leaf      P-384, SAN dns site-c.lab
//                            ├── expired_leaf   valid 30 days ago until yesterday
//                            ├── revoked_leaf   listed in crl
//                            └── intermediate (CA) ── leaf_via_intermediate
//   other_root    ── other_leaf      an unrelated CA
//   impostor_root ── impostor_leaf   a CA with root's very DN but its own key
//   crl: root's CRL listing revoked_leaf
//
// Every DN is "C=CH, O=mesh-site lab, CN=<cn>".

#include "test_rng.hpp"
#include <botan/bigint.h>
#include <botan/der_enc.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pem.h>
#include <botan/pkcs8.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/x509_ca.h>
#include <botan/x509_crl.h>
#include <botan/x509_ext.h>
#include <botan/x509_key.h>
#include <botan/x509cert.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mesh::ike::test_pki {

using Clock = std::chrono::system_clock;
using std::chrono::hours;

inline Botan::RandomNumberGenerator& rng()
{
    static test_rng::TestRng generator{"pki"};
    return generator;
}

inline std::shared_ptr<Botan::Private_Key> ecdsa_key(const std::string& curve = "secp256r1")
{
    return std::make_shared<Botan::ECDSA_PrivateKey>(rng(), Botan::EC_Group(curve));
}

inline std::shared_ptr<Botan::Private_Key> rsa_key(std::size_t bits = 2048)
{
    return std::make_shared<Botan::RSA_PrivateKey>(rng(), bits);
}

// A certificate and the private key of its subject.
struct Issued {
    Botan::X509_Certificate cert;
    std::shared_ptr<Botan::Private_Key> key;
};

struct CertSpec {
    std::string cn;
    std::vector<std::string> dns;
    std::vector<std::string> email;
    std::vector<std::vector<std::uint8_t>> ip;   // 4 or 16 bytes
    bool ca = false;
    Clock::time_point not_before = Clock::now() - hours(24);
    Clock::time_point not_after = Clock::now() + hours(24 * 365);
};

inline CertSpec ca_spec(std::string cn)
{
    CertSpec spec;
    spec.cn = std::move(cn);
    spec.ca = true;
    return spec;
}

inline CertSpec leaf_spec(std::string cn, std::vector<std::string> dns = {})
{
    CertSpec spec;
    spec.cn = std::move(cn);
    spec.dns = std::move(dns);
    return spec;
}

// subjectAltName with GeneralNames encoded here: Botan 2's AlternativeName
// cannot write an IPv6 address.
class RawSubjectAltName final : public Botan::Certificate_Extension {
public:
    explicit RawSubjectAltName(std::vector<std::uint8_t> der) : der_(std::move(der)) {}
    Botan::OID oid_of() const override { return Botan::OID("2.5.29.17"); }
    std::string oid_name() const override { return "X509v3.SubjectAlternativeName"; }
    Botan::Certificate_Extension* copy() const override { return new RawSubjectAltName(der_); }
    void contents_to(Botan::Data_Store&, Botan::Data_Store&) const override {}

private:
    std::vector<std::uint8_t> encode_inner() const override { return der_; }
    void decode_inner(const std::vector<std::uint8_t>& in) override { der_ = in; }

    std::vector<std::uint8_t> der_;
};

// GeneralNames: rfc822Name [1], dNSName [2], iPAddress [7] (RFC 5280 section 4.2.1.6).
inline std::vector<std::uint8_t> general_names(const CertSpec& spec)
{
    std::vector<std::uint8_t> out;
    Botan::DER_Encoder enc(out);
    enc.start_cons(Botan::SEQUENCE);
    for (const auto& email : spec.email)
        enc.add_object(Botan::ASN1_Tag(1), Botan::CONTEXT_SPECIFIC, email);
    for (const auto& dns : spec.dns)
        enc.add_object(Botan::ASN1_Tag(2), Botan::CONTEXT_SPECIFIC, dns);
    for (const auto& ip : spec.ip)
        enc.add_object(Botan::ASN1_Tag(7), Botan::CONTEXT_SPECIFIC, ip.data(), ip.size());
    enc.end_cons();
    return out;
}

inline Botan::X509_DN lab_dn(const std::string& cn)
{
    Botan::X509_DN dn;
    dn.add_attribute("X520.Country", "CH");
    dn.add_attribute("X520.Organization", "mesh-site lab");
    dn.add_attribute("X520.CommonName", cn);
    return dn;
}

// A certificate for key, signed by issuer (self-signed when null).
inline Issued issue(const Issued* issuer, std::shared_ptr<Botan::Private_Key> key, const CertSpec& spec)
{
    const Botan::Private_Key& signing_key = issuer != nullptr ? *issuer->key : *key;
    Botan::AlgorithmIdentifier sig_algo;
    std::unique_ptr<Botan::PK_Signer> signer(Botan::choose_sig_format(signing_key, rng(), "SHA-256", sig_algo));

    const Botan::X509_DN subject = lab_dn(spec.cn);
    const std::vector<std::uint8_t> spki = Botan::X509::BER_encode(*key);
    Botan::Extensions extensions;
    extensions.add(new Botan::Cert_Extension::Basic_Constraints(spec.ca, spec.ca ? 2 : 0), true);
    extensions.add(new Botan::Cert_Extension::Key_Usage(
                       spec.ca ? Botan::Key_Constraints(Botan::KEY_CERT_SIGN | Botan::CRL_SIGN)
                               : Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE)),
                   true);
    extensions.add(new Botan::Cert_Extension::Subject_Key_ID(spki, "SHA-256"));
    if (issuer != nullptr)
        extensions.add(new Botan::Cert_Extension::Authority_Key_ID(issuer->cert.subject_key_id()));
    if (!spec.dns.empty() || !spec.email.empty() || !spec.ip.empty())
        extensions.add(new RawSubjectAltName(general_names(spec)));

    Botan::X509_Certificate cert = Botan::X509_CA::make_cert(
        signer.get(), rng(), sig_algo, spki, Botan::X509_Time(spec.not_before), Botan::X509_Time(spec.not_after),
        issuer != nullptr ? issuer->cert.subject_dn() : subject, subject, extensions);
    return Issued{std::move(cert), std::move(key)};
}

// ca's CRL listing revoked, issued at this_update and due again valid_for later.
inline Botan::X509_CRL make_crl(const Issued& ca, const std::vector<Botan::X509_Certificate>& revoked,
                                Clock::time_point this_update = Clock::now() - hours(1),
                                std::chrono::seconds valid_for = hours(24 * 7))
{
    const Botan::X509_CA x509_ca(ca.cert, *ca.key, "SHA-256", rng());
    const Botan::X509_CRL empty = x509_ca.new_crl(rng(), this_update, valid_for);
    if (revoked.empty())
        return empty;
    std::vector<Botan::CRL_Entry> entries;
    for (const auto& cert : revoked)
        entries.emplace_back(cert, Botan::KEY_COMPROMISE);
    return x509_ca.update_crl(empty, entries, rng(), this_update, valid_for);
}

struct Lab {
    Issued root;
    Issued intermediate;
    Issued ecdsa_leaf;
    Issued rsa_leaf;
    Issued p384_leaf;
    Issued expired_leaf;
    Issued revoked_leaf;
    Issued leaf_via_intermediate;
    Issued other_root;
    Issued other_leaf;
    Issued impostor_root;
    Issued impostor_leaf;
    Botan::X509_CRL crl;
};

inline Lab make_lab()
{
    Lab lab;
    lab.root = issue(nullptr, ecdsa_key(), ca_spec("mesh-site lab root"));
    lab.intermediate = issue(&lab.root, ecdsa_key(), ca_spec("mesh-site lab intermediate"));

    CertSpec site_a = leaf_spec("site-a.lab", {"site-a.lab"});
    site_a.email = {"ops@site-a.lab"};
    site_a.ip = {{203, 0, 113, 1}, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    lab.ecdsa_leaf = issue(&lab.root, ecdsa_key(), site_a);
    lab.rsa_leaf = issue(&lab.root, rsa_key(2048), leaf_spec("site-b.lab", {"site-b.lab"}));
    lab.p384_leaf = issue(&lab.root, ecdsa_key("secp384r1"), leaf_spec("site-c.lab", {"site-c.lab"}));

    CertSpec expired = leaf_spec("expired.lab", {"expired.lab"});
    expired.not_before = Clock::now() - hours(24 * 30);
    expired.not_after = Clock::now() - hours(24);
    lab.expired_leaf = issue(&lab.root, ecdsa_key(), expired);
    lab.revoked_leaf = issue(&lab.root, ecdsa_key(), leaf_spec("revoked.lab", {"revoked.lab"}));
    lab.leaf_via_intermediate = issue(&lab.intermediate, ecdsa_key(), leaf_spec("site-d.lab", {"site-d.lab"}));

    lab.other_root = issue(nullptr, ecdsa_key(), ca_spec("another lab root"));
    lab.other_leaf = issue(&lab.other_root, ecdsa_key(), leaf_spec("site-a.lab", {"site-a.lab"}));
    lab.impostor_root = issue(nullptr, ecdsa_key(), ca_spec("mesh-site lab root"));
    lab.impostor_leaf = issue(&lab.impostor_root, ecdsa_key(), leaf_spec("site-a.lab", {"site-a.lab"}));
    lab.crl = make_crl(lab.root, {lab.revoked_leaf.cert});
    return lab;
}

// Made once per test run (the RSA key takes a moment).
inline const Lab& lab()
{
    static const Lab instance = make_lab();
    return instance;
}

inline std::vector<std::uint8_t> der(const Botan::X509_Certificate& cert)
{
    return cert.BER_encode();
}

// ---------------------------------------------------------------------------
// Key files in the forms load_private_key reads

inline std::string pkcs8_pem(const Botan::Private_Key& key)
{
    return Botan::PKCS8::PEM_encode(key);
}

// PKCS#1 RSAPrivateKey: Botan's private_key_bits() of an RSA key.
inline std::string pkcs1_pem(const Botan::Private_Key& key)
{
    return Botan::PEM_Code::encode(key.private_key_bits(), "RSA PRIVATE KEY");
}

// SEC1 ECPrivateKey (RFC 5915) as OpenSSL writes it, the curve in [0] and
// the public key in [1]. (Botan's private_key_bits() leaves out [0]: it
// counts on a PKCS#8 wrapper to name the curve.) with_curve = false leaves
// it out here too.
inline std::string sec1_pem(const Botan::Private_Key& key, bool with_curve = true)
{
    const auto& ec = dynamic_cast<const Botan::ECDSA_PrivateKey&>(key);
    const auto priv = Botan::BigInt::encode_1363(ec.private_value(), ec.domain().get_order_bytes());
    const auto pub = ec.public_point().encode(Botan::PointGFp::UNCOMPRESSED);
    std::vector<std::uint8_t> der;
    Botan::DER_Encoder enc(der);
    enc.start_cons(Botan::SEQUENCE).encode(std::size_t{1}).encode(priv, Botan::OCTET_STRING);
    if (with_curve)
        enc.start_cons(Botan::ASN1_Tag(0), Botan::PRIVATE).encode(ec.domain().get_curve_oid()).end_cons();
    enc.start_cons(Botan::ASN1_Tag(1), Botan::PRIVATE).encode(pub, Botan::BIT_STRING).end_cons();
    enc.end_cons();
    return Botan::PEM_Code::encode(der, "EC PRIVATE KEY");
}

// A directory under /tmp removed with everything in it at the end of the scope.
class TempDir {
public:
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "mesh-pki-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    std::filesystem::path write(const std::string& name, const std::string& content) const
    {
        const auto file = path_ / name;
        std::ofstream(file, std::ios::binary) << content;
        return file;
    }
    std::filesystem::path write(const std::string& name, const std::vector<std::uint8_t>& content) const
    {
        return write(name, std::string(content.begin(), content.end()));
    }

private:
    std::filesystem::path path_;
};

} // namespace mesh::ike::test_pki
