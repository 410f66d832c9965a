#include "ike/crypto_pool.hpp"

#include <boost/asio/post.hpp>
#include <botan/auto_rng.h>

#include <algorithm>
#include <thread>

namespace mesh::ike {

namespace {
unsigned pool_size(unsigned threads)
{
    return threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
}
} // namespace

CryptoPool::CryptoPool(boost::asio::io_context& control, unsigned threads)
    : control_(control), threads_(pool_size(threads)), pool_(threads_)
{
}

CryptoPool::~CryptoPool()
{
    pool_.stop();
    pool_.join();
}

void CryptoPool::run(Job job)
{
    boost::asio::post(pool_, [this, job = std::move(job)]() mutable {
        // Botan's generators are not shared between threads: one per pool thread.
        thread_local Botan::AutoSeeded_RNG rng;
        boost::asio::post(control_, job(rng));
    });
}

} // namespace mesh::ike
