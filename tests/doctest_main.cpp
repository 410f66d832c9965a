// doctest's own main(), compiled once for every test binary but test_ike
// (tests/ike/main.cpp prints its seed).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
