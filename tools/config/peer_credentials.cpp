// [peer.NAME] with auth-method = "digital-signature": the certificate,
// private key, CA and CRL loaded here, at load time, by the same loaders IKE
// uses (ike/certificates.hpp), so check-config sees every file the daemon
// would refuse, and the daemon signs with what was checked.

#include "tools/config/file_modes.hpp"
#include "tools/config/sections.hpp"

#include "ike/certificates.hpp"

#include <array>
#include <chrono>
#include <memory>

namespace mesh::config::detail {
namespace {

// The key of the table that names file: the loaders say which file failed.
const toml::node& node_naming(const TableReader& r, const Peer& peer, const std::filesystem::path& file)
{
    const std::array<std::pair<std::string_view, const std::optional<std::filesystem::path>*>, 4> keys{{
        {"private-key", &peer.private_key},
        {"certificate", &peer.certificate},
        {"ca", &peer.ca},
        {"crl", &peer.crl},
    }};
    for (const auto& [key, path] : keys)
        if (*path == file)
            return *r.node(key);
    return r.toml_table();
}

// Our own certificate as a peer that trusts the same CA would check it.
void check_own_chain(const TableReader& r, PeerRead& read)
{
    const Peer& peer = read.peer;
    const auto now = std::chrono::system_clock::now();
    std::vector<std::vector<std::uint8_t>> chain{read.peer.credentials->certificate.BER_encode()};
    for (const auto& intermediate : peer.credentials->intermediates)
        chain.push_back(intermediate.BER_encode());
    if (const auto verified = peer.trust->validate(chain, now); !verified)
        read.warnings.push_back(r.source().warning(
            *r.node("certificate"), "certificate " + peer.certificate->string() + " does not verify against ca " +
                                        peer.ca->string() + " (" + verified.error() +
                                        "): a peer that trusts only that CA will refuse it"));
    if (!peer.trust->crl_is_current(now))
        read.warnings.push_back(r.source().warning(
            *r.node("crl"), "crl " + peer.crl->string() +
                                " is past its next update: it still revokes what it lists, but renew it"));
}

} // namespace

void load_peer_credentials(const TableReader& r, PeerRead& read)
{
    Peer& peer = read.peer;
    if (peer.auth_method != AuthMethod::digital_signature)
        return;
    if (peer.private_key)
        if (const auto problem = exposure(*peer.private_key))
            r.fail(*r.node("private-key"), peer.private_key->string() + " is " + *problem);
    try {
        if (peer.certificate && peer.private_key)
            peer.credentials = std::make_shared<const ike::LocalCredentials>(
                ike::load_credentials(*peer.certificate, *peer.private_key));
        if (peer.ca)
            peer.trust = std::make_shared<const ike::TrustAnchor>(ike::TrustAnchor::load(*peer.ca, peer.crl));
    } catch (const ike::FileError& e) {
        r.fail(node_naming(r, peer, e.path()), e.what());
    }
    if (peer.credentials && peer.trust)
        check_own_chain(r, read);
}

} // namespace mesh::config::detail
