#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "test_rng.hpp"

#include <cstdio>

int main(int argc, char** argv)
{
    std::printf("IKE unit tests: seed %llu (MESH_TEST_SEED=%llu replays this run)\n",
                static_cast<unsigned long long>(test_rng::seed()), static_cast<unsigned long long>(test_rng::seed()));
    doctest::Context context(argc, argv);
    const int failed = context.run();
    if (context.shouldExit())
        return failed;
    if (failed != 0)
        std::printf("IKE unit tests failed with seed %llu: MESH_TEST_SEED=%llu %s replays it\n",
                    static_cast<unsigned long long>(test_rng::seed()), static_cast<unsigned long long>(test_rng::seed()),
                    argv[0]);
    return failed;
}
