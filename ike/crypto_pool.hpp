#pragma once
// A CryptoExecutor on a pool of threads (one per core): the daemon's. Jobs
// run on the pool, each thread with a generator of its own; continuations
// are posted to the control thread's io_context, in the order jobs finish.

#include "ike/crypto_executor.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

namespace mesh::ike {

class CryptoPool final : public CryptoExecutor {
public:
    // threads 0: one per core.
    CryptoPool(boost::asio::io_context& control, unsigned threads = 0);
    // Jobs not started are dropped with their continuations; running ones
    // finish and post theirs, which run only if `control` runs again.
    ~CryptoPool() override;

    void run(Job job) override;
    [[nodiscard]] unsigned threads() const noexcept { return threads_; }

private:
    boost::asio::io_context& control_;
    unsigned threads_;
    boost::asio::thread_pool pool_;
};

} // namespace mesh::ike
