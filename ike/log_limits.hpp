#pragma once
// The IKE engine's log lines that anyone can trigger with one datagram, one
// budget per reason (net/log_rate_limit.hpp): about one line a second each,
// the next line telling how many were held back. The counters still count
// every datagram.

#include "net/log_rate_limit.hpp"

namespace mesh::ike {

struct IkeLogLimits {
    net::LogRateLimit malformed;              // the codec refused it
    net::LogRateLimit unsupported_critical;   // RFC 7296 section 2.5
    net::LogRateLimit bad_version;            // INVALID_MAJOR_VERSION
    net::LogRateLimit unknown_spi;            // no IKE SA has these SPIs
    net::LogRateLimit zero_spi;               // SPIi zero (RFC 7296 section 3.1)
    net::LogRateLimit missing_payload;        // IKE_SA_INIT without SA, KE or Nonce
    net::LogRateLimit no_peer;                // IKE_SA_INIT from an address no peer has
    net::LogRateLimit init_refused;           // over the half-open or IKE SA bounds
    net::LogRateLimit cookie;                 // answered with a COOKIE
    net::LogRateLimit invalid_ke;             // answered with INVALID_KE_PAYLOAD
    net::LogRateLimit no_proposal;            // NO_PROPOSAL_CHOSEN
    net::LogRateLimit ke_refused;             // a KE payload that is not a valid public value
    net::LogRateLimit decryption;             // SK payload failed its integrity check
    net::LogRateLimit fragments;              // IKE fragments refused
};

} // namespace mesh::ike
