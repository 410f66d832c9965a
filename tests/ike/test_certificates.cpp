// Certificates: key and certificate loading, path validation against the
// configured CA and CRL, certificate-to-identity matching, CERT and CERTREQ
// data. The PKI is made at test time (pki_helpers.hpp).

#include "ike/certificates.hpp"
#include "ike/identity.hpp"
#include "ike/message.hpp"
#include "pki_helpers.hpp"

#include <doctest/doctest.h>

#include <botan/hash.h>
#include <botan/x509_key.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace mesh::ike;
using namespace mesh::ike::test_pki;

namespace {

using Chain = std::vector<std::vector<std::uint8_t>>;

TrustAnchor anchor(bool with_crl = false)
{
    if (with_crl)
        return TrustAnchor({lab().root.cert}, lab().crl);
    return TrustAnchor({lab().root.cert});
}

std::string failure(const TrustAnchor& a, const Chain& chain, Clock::time_point now = Clock::now())
{
    const auto result = a.validate(chain, now);
    REQUIRE_FALSE(result.has_value());
    return result.error();
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

Identity id(const std::string& text)
{
    const auto parsed = parse_identity(text);
    INFO(text);
    REQUIRE(parsed.has_value());
    return *parsed;
}

// The text of the runtime_error f throws.
std::string thrown(auto&& f)
{
    try {
        (void)f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    FAIL("no exception");
    return {};
}

} // namespace

// ---------------------------------------------------------------------------
// Path validation

TEST_CASE("a certificate issued by the configured CA validates and is returned")
{
    for (const Issued* leaf : {&lab().ecdsa_leaf, &lab().rsa_leaf, &lab().p384_leaf}) {
        const auto result = anchor().validate(Chain{der(leaf->cert)}, Clock::now());
        INFO(to_string(identity_of(leaf->cert)));
        REQUIRE(result.has_value());
        CHECK(*result == leaf->cert);
    }
}

TEST_CASE("a certificate under an intermediate validates when the peer sends the intermediate")
{
    const auto& l = lab();
    const auto result = anchor().validate(Chain{der(l.leaf_via_intermediate.cert), der(l.intermediate.cert)},
                                          Clock::now());
    REQUIRE(result.has_value());
    CHECK(*result == l.leaf_via_intermediate.cert);

    // The end-entity certificate comes first; the intermediate alone is not enough.
    CHECK(contains(failure(anchor(), Chain{der(l.leaf_via_intermediate.cert)}), "not signed by the configured CA"));
}

TEST_CASE("a certificate of another CA fails as not signed by the configured CA")
{
    const auto& l = lab();
    CHECK(contains(failure(anchor(), Chain{der(l.other_leaf.cert)}), "not signed by the configured CA"));
    // Another CA with the very DN of ours: its key is not ours.
    CHECK(contains(failure(anchor(), Chain{der(l.impostor_leaf.cert)}), "not signed by the configured CA"));
    // Sending the other CA along does not make it trusted.
    CHECK(contains(failure(anchor(), Chain{der(l.other_leaf.cert), der(l.other_root.cert)}),
                   "not signed by the configured CA"));
}

TEST_CASE("a certificate the CRL lists fails as revoked; others still pass with the CRL")
{
    const auto& l = lab();
    const std::string why = failure(anchor(true), Chain{der(l.revoked_leaf.cert)});
    CHECK(contains(why, "revoked"));
    CHECK(contains(why, "CN=revoked.lab"));
    CHECK(anchor(true).validate(Chain{der(l.ecdsa_leaf.cert)}, Clock::now()).has_value());
    // Revocation comes only from the CRL: without one, nothing is revoked.
    CHECK(anchor(false).validate(Chain{der(l.revoked_leaf.cert)}, Clock::now()).has_value());
}

TEST_CASE("a CRL past its next update does not fail a good certificate, and still revokes")
{
    const auto& l = lab();
    const auto stale = make_crl(l.root, {l.revoked_leaf.cert}, Clock::now() - hours(24 * 10), hours(24));
    const TrustAnchor a({l.root.cert}, stale);
    CHECK_FALSE(a.crl_is_current(Clock::now()));
    CHECK(anchor(true).crl_is_current(Clock::now()));
    CHECK(anchor(false).crl_is_current(Clock::now()));
    CHECK(a.validate(Chain{der(l.ecdsa_leaf.cert)}, Clock::now()).has_value());
    CHECK(contains(failure(a, Chain{der(l.revoked_leaf.cert)}), "certificate revoked"));
    // The certificate's own problem is what is reported, not the CRL's age.
    CHECK(contains(failure(a, Chain{der(l.expired_leaf.cert)}), "certificate expired"));
}

TEST_CASE("an expired or not yet valid certificate fails")
{
    const auto& l = lab();
    const std::string why = failure(anchor(), Chain{der(l.expired_leaf.cert)});
    CHECK(contains(why, "certificate expired"));
    CHECK(contains(why, "CN=expired.lab"));
    // The same good certificate two years on, and three days before it was
    // issued; with the CRL too, whose dates are then just as wrong.
    for (const bool with_crl : {false, true}) {
        CHECK(contains(failure(anchor(with_crl), Chain{der(l.ecdsa_leaf.cert)}, Clock::now() + hours(24 * 730)),
                       "certificate expired: dn:C=CH, O=mesh-site lab, CN=site-a.lab"));
        CHECK(contains(failure(anchor(with_crl), Chain{der(l.ecdsa_leaf.cert)}, Clock::now() - hours(72)),
                       "certificate not yet valid"));
    }
}

TEST_CASE("chains that do not parse are errors, not exceptions")
{
    const auto good = der(lab().ecdsa_leaf.cert);
    auto truncated = good;
    truncated.resize(good.size() / 2);
    auto corrupted = good;
    corrupted[corrupted.size() - 10] ^= 0x01;   // inside the signature
    const std::string pem = lab().ecdsa_leaf.cert.PEM_encode();

    CHECK(contains(failure(anchor(), Chain{}), "no certificate"));
    CHECK_FALSE(anchor().validate(Chain{{}}, Clock::now()).has_value());
    CHECK_FALSE(anchor().validate(Chain{{0x30}}, Clock::now()).has_value());
    CHECK_FALSE(anchor().validate(Chain{{0x30, 0x82, 0xff, 0xff, 0x00}}, Clock::now()).has_value());
    CHECK_FALSE(anchor().validate(Chain{truncated}, Clock::now()).has_value());
    CHECK_FALSE(anchor().validate(Chain{corrupted}, Clock::now()).has_value());
    CHECK_FALSE(anchor().validate(Chain{std::vector<std::uint8_t>(pem.begin(), pem.end())}, Clock::now()).has_value());
    CHECK_FALSE(anchor().validate(Chain{good, {0x01, 0x02}}, Clock::now()).has_value());
    CHECK_FALSE(anchor().validate(Chain{std::vector<std::uint8_t>(max_certificate_size + 1, 0x30)}, Clock::now())
                    .has_value());
    CHECK(contains(failure(anchor(), Chain(max_certificate_chain + 1, good)), "at most"));
}

TEST_CASE("TrustAnchor::load reads the CA and CRL files and names the file it refuses")
{
    const auto& l = lab();
    const TempDir dir;
    const auto ca = dir.write("ca.pem", l.root.cert.PEM_encode());
    const auto crl = dir.write("ca.crl", l.crl.PEM_encode());

    const TrustAnchor a = TrustAnchor::load(ca, crl);
    REQUIRE(a.cas().size() == 1);
    CHECK(a.cas().front() == l.root.cert);
    CHECK(contains(failure(a, Chain{der(l.revoked_leaf.cert)}), "revoked"));

    // A bundle: both CAs are trusted.
    const auto bundle = dir.write("bundle.pem", l.root.cert.PEM_encode() + l.other_root.cert.PEM_encode());
    const TrustAnchor both = TrustAnchor::load(bundle);
    CHECK(both.cas().size() == 2);
    CHECK(both.validate(Chain{der(l.other_leaf.cert)}, Clock::now()).has_value());

    // DER files.
    const auto ca_der = dir.write("ca.der", der(l.root.cert));
    const auto crl_der = dir.write("crl.der", l.crl.BER_encode());
    CHECK(TrustAnchor::load(ca_der, crl_der).crl().has_value());

    // Refusals name the file.
    const auto other_crl = dir.write("other.crl", make_crl(l.other_root, {}).PEM_encode());
    CHECK(contains(thrown([&] { return TrustAnchor::load(ca, other_crl); }), "other.crl: "));
    const auto leaf_as_ca = dir.write("leaf.pem", l.ecdsa_leaf.cert.PEM_encode());
    CHECK(contains(thrown([&] { return TrustAnchor::load(leaf_as_ca); }), "not a CA certificate"));
    const auto intermediate = dir.write("intermediate.pem", l.intermediate.cert.PEM_encode());
    CHECK(contains(thrown([&] { return TrustAnchor::load(intermediate); }), "not self-signed"));
    const auto missing = dir.path() / "missing.pem";
    CHECK(contains(thrown([&] { return TrustAnchor::load(missing); }), "missing.pem: cannot open"));
    const auto key_only = dir.write("key.pem", pkcs8_pem(*l.root.key));
    CHECK(contains(thrown([&] { return TrustAnchor::load(key_only); }), "key.pem: no CERTIFICATE"));
}

// ---------------------------------------------------------------------------
// Identities

TEST_CASE("certificate_matches: each identity form against the certificate")
{
    const auto& leaf = lab().ecdsa_leaf.cert;
    // fqdn: a SAN dNSName, any case.
    CHECK(certificate_matches(leaf, id("fqdn:site-a.lab")));
    CHECK(certificate_matches(leaf, id("fqdn:SITE-A.Lab")));
    CHECK_FALSE(certificate_matches(leaf, id("fqdn:site-b.lab")));
    CHECK_FALSE(certificate_matches(leaf, id("fqdn:site-a.la")));
    // user-fqdn: a SAN rfc822Name.
    CHECK(certificate_matches(leaf, id("user-fqdn:ops@site-a.lab")));
    CHECK(certificate_matches(leaf, id("user-fqdn:OPS@site-a.lab")));
    CHECK_FALSE(certificate_matches(leaf, id("user-fqdn:dev@site-a.lab")));
    // address: a SAN iPAddress, v4 and v6.
    CHECK(certificate_matches(leaf, id("address:203.0.113.1")));
    CHECK(certificate_matches(leaf, id("address:2001:db8::1")));
    CHECK_FALSE(certificate_matches(leaf, id("address:203.0.113.2")));
    CHECK_FALSE(certificate_matches(leaf, id("address:2001:db8::2")));
    // dn: the subject, by value as identity.hpp compares DNs.
    CHECK(certificate_matches(leaf, id("dn:C=CH, O=mesh-site lab, CN=site-a.lab")));
    CHECK(certificate_matches(leaf, id("dn:C=ch,O=Mesh-Site Lab,CN=site-a.lab")));
    CHECK(certificate_matches(leaf, identity_of(leaf)));
    CHECK_FALSE(certificate_matches(leaf, id("dn:C=CH, O=mesh-site lab, CN=site-b.lab")));
    CHECK_FALSE(certificate_matches(leaf, id("dn:CN=site-a.lab")));
    // key-id: never through a certificate.
    CHECK_FALSE(certificate_matches(leaf, id("key-id:0102030405")));
    CHECK_FALSE(certificate_matches(leaf, Identity{IdType::key_id, leaf.subject_key_id()}));
}

TEST_CASE("certificate_matches: names are SAN entries of the right kind only")
{
    const auto& l = lab();
    // The CN is not a DNS name: site-a.lab is only in the SAN of ecdsa_leaf.
    const auto cn_only = issue(&l.root, ecdsa_key(), leaf_spec("cn-only.lab"));
    CHECK_FALSE(certificate_matches(cn_only.cert, id("fqdn:cn-only.lab")));
    CHECK(certificate_matches(cn_only.cert, id("dn:C=CH, O=mesh-site lab, CN=cn-only.lab")));
    // A DNS name is not an email and the reverse; an address is not a name.
    CHECK_FALSE(certificate_matches(l.ecdsa_leaf.cert, Identity{IdType::rfc822_addr, {'s', 'i', 't', 'e', '-', 'a',
                                                                                      '.', 'l', 'a', 'b'}}));
    CHECK_FALSE(certificate_matches(l.ecdsa_leaf.cert, id("fqdn:203.0.113.1")));
    CHECK_FALSE(certificate_matches(l.rsa_leaf.cert, id("address:203.0.113.1")));
    CHECK(certificate_matches(l.rsa_leaf.cert, id("fqdn:site-b.lab")));
}

TEST_CASE("identity_of a certificate is its subject DN as ID_DER_ASN1_DN")
{
    const auto& leaf = lab().ecdsa_leaf.cert;
    const Identity me = identity_of(leaf);
    CHECK(me.type == IdType::der_asn1_dn);
    CHECK(me.data == leaf.raw_subject_dn());
    CHECK(to_string(me) == "dn:C=CH, O=mesh-site lab, CN=site-a.lab");
    CHECK(matches(id("dn:C=CH, O=mesh-site lab, CN=site-a.lab"), me));
}

// ---------------------------------------------------------------------------
// CERT and CERTREQ

TEST_CASE("certreq_data is the SHA-1 of the CA's subjectPublicKeyInfo")
{
    const auto& root = lab().root;
    // The SPKI computed from the key, apart from the certificate's copy of it.
    const std::vector<std::uint8_t> spki = Botan::X509::BER_encode(*root.key);
    CHECK(spki == root.cert.subject_public_key_info());
    const auto sha1 = Botan::HashFunction::create_or_throw("SHA-1");
    sha1->update(spki);
    const auto expected = sha1->final_stdvec();

    CHECK(certreq_data(root.cert).size() == 20);
    CHECK(certreq_data(root.cert) == expected);
    CHECK(certreq_data(lab().other_root.cert) != expected);
}

TEST_CASE("the CERTREQ payload names every CA of the anchor; certreq_names reads one")
{
    const auto& l = lab();
    const TrustAnchor both({l.root.cert, l.other_root.cert});
    const CertreqPayload req = certreq_payload(both);
    CHECK(req.encoding == CertEncoding::x509_signature);
    REQUIRE(req.data.size() == 40);
    const auto first = certreq_data(l.root.cert);
    CHECK(std::equal(first.begin(), first.end(), req.data.begin()));

    CHECK(certreq_names(req.data, l.root.cert));
    CHECK(certreq_names(req.data, l.other_root.cert));
    CHECK_FALSE(certreq_names(req.data, l.intermediate.cert));
    CHECK_FALSE(certreq_names(std::span(req.data).first(39), l.root.cert));
    CHECK_FALSE(certreq_names({}, l.root.cert));
}

TEST_CASE("CERT payloads carry the DER; x509_chain takes encoding 4 in order through the codec")
{
    const auto& l = lab();
    const CertPayload leaf = cert_payload(l.leaf_via_intermediate.cert);
    CHECK(leaf.encoding == CertEncoding::x509_signature);
    CHECK(leaf.data == der(l.leaf_via_intermediate.cert));

    Message m;
    m.header.exchange_type = ExchangeType::ike_auth;
    m.payloads = {leaf, CertPayload{CertEncoding::crl, {1, 2, 3}}, cert_payload(l.intermediate.cert),
                  certreq_payload(anchor())};
    const auto back = parse(serialize(m));
    REQUIRE(back.has_value());
    const auto chain = x509_chain(back->find_all<CertPayload>());
    REQUIRE(chain.size() == 2);
    CHECK(chain[0] == der(l.leaf_via_intermediate.cert));
    CHECK(chain[1] == der(l.intermediate.cert));
    const auto validated = anchor().validate(chain, Clock::now());
    REQUIRE(validated.has_value());
    CHECK(certificate_matches(*validated, id("fqdn:site-d.lab")));
}

// ---------------------------------------------------------------------------
// Our credentials

TEST_CASE("load_credentials reads PKCS#8, SEC1 and PKCS#1 PEM keys")
{
    const auto& l = lab();
    const TempDir dir;
    const auto ecdsa_cert = dir.write("a.pem", l.ecdsa_leaf.cert.PEM_encode());
    const auto rsa_cert = dir.write("b.pem", l.rsa_leaf.cert.PEM_encode());
    const auto p384_cert = dir.write("c.der", der(l.p384_leaf.cert));

    struct Case {
        const char* name;
        std::filesystem::path cert;
        std::string key_file;
        const Issued* expected;
    };
    const Case cases[] = {
        {"PKCS#8 ECDSA", ecdsa_cert, pkcs8_pem(*l.ecdsa_leaf.key), &l.ecdsa_leaf},
        {"PKCS#8 RSA", rsa_cert, pkcs8_pem(*l.rsa_leaf.key), &l.rsa_leaf},
        {"SEC1 P-256", ecdsa_cert, sec1_pem(*l.ecdsa_leaf.key), &l.ecdsa_leaf},
        {"SEC1 P-384, DER certificate", p384_cert, sec1_pem(*l.p384_leaf.key), &l.p384_leaf},
        {"PKCS#1 RSA", rsa_cert, pkcs1_pem(*l.rsa_leaf.key), &l.rsa_leaf},
        // What `openssl ecparam -genkey` writes: the parameters, then the key.
        {"SEC1 after EC PARAMETERS", ecdsa_cert,
         Botan::PEM_Code::encode(l.ecdsa_leaf.cert.subject_public_key_algo().get_parameters(), "EC PARAMETERS") +
             sec1_pem(*l.ecdsa_leaf.key),
         &l.ecdsa_leaf},
        // A certificate and its key in one file.
        {"key after a certificate", ecdsa_cert, l.ecdsa_leaf.cert.PEM_encode() + pkcs8_pem(*l.ecdsa_leaf.key),
         &l.ecdsa_leaf},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        const auto key_path = dir.write("key.pem", c.key_file);
        const LocalCredentials creds = load_credentials(c.cert, key_path);
        CHECK(creds.certificate == c.expected->cert);
        REQUIRE(creds.key != nullptr);
        CHECK(creds.key->algo_name() == c.expected->key->algo_name());
        CHECK(creds.key->public_key_bits() == c.expected->key->public_key_bits());
        CHECK(key_matches_certificate(*creds.key, c.expected->cert));
    }
}

TEST_CASE("a chain file gives our certificate and its intermediates, sent in that order")
{
    const auto& l = lab();
    const TempDir dir;
    const auto cert = dir.write("chain.pem", l.leaf_via_intermediate.cert.PEM_encode() + l.intermediate.cert.PEM_encode());
    const auto key = dir.write("d.key", sec1_pem(*l.leaf_via_intermediate.key));
    const LocalCredentials creds = load_credentials(cert, key);
    CHECK(creds.certificate == l.leaf_via_intermediate.cert);
    REQUIRE(creds.intermediates.size() == 1);
    CHECK(creds.intermediates.front() == l.intermediate.cert);

    const std::vector<CertPayload> payloads = cert_payloads(creds);
    REQUIRE(payloads.size() == 2);
    std::vector<const CertPayload*> pointers;
    for (const auto& p : payloads)
        pointers.push_back(&p);
    const auto validated = anchor().validate(x509_chain(pointers), Clock::now());
    REQUIRE(validated.has_value());
    CHECK(*validated == l.leaf_via_intermediate.cert);

    // A lone certificate has none.
    const auto single = dir.write("a.pem", l.ecdsa_leaf.cert.PEM_encode());
    const auto a_key = dir.write("a.key", pkcs8_pem(*l.ecdsa_leaf.key));
    CHECK(load_credentials(single, a_key).intermediates.empty());
    CHECK(cert_payloads(load_credentials(single, a_key)).size() == 1);
}

TEST_CASE("load_credentials refuses, naming the file, keys it cannot use")
{
    const auto& l = lab();
    const TempDir dir;
    const auto cert = dir.write("a.pem", l.ecdsa_leaf.cert.PEM_encode());
    const auto load_key = [&](const std::string& name, const std::string& content) {
        const auto path = dir.write(name, content);
        return thrown([&] { return load_credentials(cert, path); });
    };

    // Another key than the certificate's.
    std::string why = load_key("other.key", pkcs8_pem(*l.rsa_leaf.key));
    CHECK(contains(why, "other.key: "));
    CHECK(contains(why, "not the one of the certificate"));
    CHECK(contains(load_key("other-ec.key", sec1_pem(*l.revoked_leaf.key)), "not the one of the certificate"));

    // A SEC1 key that does not name its curve.
    CHECK(contains(load_key("nocurve.key", sec1_pem(*l.ecdsa_leaf.key, false)), "does not name its curve"));

    // Encrypted keys.
    const std::string encrypted = Botan::PKCS8::PEM_encode(*l.ecdsa_leaf.key, rng(), "secret", std::chrono::milliseconds(10));
    CHECK(contains(load_key("enc.key", encrypted), "encrypted"));

    // No key at all, garbage, an unterminated block, a weak RSA key.
    CHECK(contains(load_key("cert.key", l.ecdsa_leaf.cert.PEM_encode()), "no private key in the file"));
    CHECK(contains(load_key("garbage.key", "not a key"), "garbage.key: cannot load"));
    CHECK(contains(load_key("open.key", "-----BEGIN PRIVATE KEY-----\nMIIB\n"), "open.key: "));
    CHECK(contains(load_key("weak.key", pkcs8_pem(*rsa_key(1024))), "too weak"));

    // Missing files.
    CHECK(contains(thrown([&] { return load_credentials(dir.path() / "nope.pem", dir.path() / "nope.key"); }),
                   "nope.pem: cannot open"));
    const auto key = dir.write("a.key", pkcs8_pem(*l.ecdsa_leaf.key));
    CHECK(contains(thrown([&] { return load_credentials(dir.path() / "nope.pem", key); }), "nope.pem"));
    CHECK(contains(thrown([&] { return load_credentials(cert, dir.path() / "nope.key"); }), "nope.key: cannot open"));
}
