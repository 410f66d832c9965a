#pragma once
// Where IKE's public-key work runs: the responder's IKE_SA_INIT (a key pair,
// the shared secret and SKEYSEED: from a fraction of a millisecond for ecp256
// to several for modp4096 per peer). A hub that a thousand branches reach at
// once would otherwise queue every one of them behind one core.
//
//   control thread:  IkeEngine -> run(job)
//   executor:        job(rng) -> continuation        copies in, values out
//   control thread:  continuation()                   touches the IKE SA
//
// A job never touches an IkeSa: it gets copies of what it needs and returns
// a continuation, which the executor runs on the control thread.

#include <botan/rng.h>

#include <functional>

namespace mesh::ike {

class CryptoExecutor {
public:
    // Runs on the control thread, with the job's results.
    using Continuation = std::move_only_function<void()>;
    // Runs wherever the executor puts it, with a generator no other thread uses meanwhile.
    using Job = std::move_only_function<Continuation(Botan::RandomNumberGenerator&)>;

    virtual ~CryptoExecutor() = default;
    virtual void run(Job job) = 0;
};

// Each job and its continuation at once, on the caller's thread, with the
// engine's own generator: the default, and deterministic in unit tests.
class InlineExecutor final : public CryptoExecutor {
public:
    explicit InlineExecutor(Botan::RandomNumberGenerator& rng) : rng_(rng) {}
    void run(Job job) override { job(rng_)(); }

private:
    Botan::RandomNumberGenerator& rng_;
};

} // namespace mesh::ike
