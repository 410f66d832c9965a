// Host names a peer's address may be (tools/config/host_name.hpp): the
// rules of RFC 1123 section 2.1 and RFC 3696 section 2, one row each.

#include "tools/config/host_name.hpp"

#include <doctest/doctest.h>

#include <string>

using mesh::config::host_name_problem;

TEST_CASE("host names of letters, digits and hyphens in dotted labels are accepted")
{
    for (const char* name : {"branch1.example.net", "branch1.example.net.", "localhost", "a", "1a.example",
                             "xn--bcher-kva.example", "UPPER.Example.NET", "a-b.c-d.e", "123.example.com"}) {
        INFO(name);
        CHECK(host_name_problem(name) == std::nullopt);
    }
}

TEST_CASE("each way a host name can be wrong says what is wrong")
{
    const std::string long_label(64, 'a');
    const std::string label63(63, 'a');
    const std::string too_long = label63 + "." + label63 + "." + label63 + "." + label63 + ".net";   // 259
    const struct {
        std::string name;
        std::string problem;
    } rows[] = {
        /* 1 */ {"", "it is empty"},
        /* 2 */ {".", "it has an empty label (two dots, or a dot first)"},
        /* 3 */ {"a..b", "it has an empty label (two dots, or a dot first)"},
        /* 4 */ {".a.b", "it has an empty label (two dots, or a dot first)"},
        /* 5 */ {"a.b..", "it has an empty label (two dots, or a dot first)"},
        /* 6 */ {"my_host.example", "its label 'my_host' holds '_': a host name has only letters, digits, '-' and "
                                    "dots between labels"},
        /* 7 */ {"a b", "its label 'a b' holds ' ': a host name has only letters, digits, '-' and dots between "
                        "labels"},
        /* 8 */ {"-a.example", "its label '-a' starts or ends with '-'"},
        /* 9 */ {"a-.example", "its label 'a-' starts or ends with '-'"},
        /* 10 */ {long_label + ".example", "its label 'aaaaaaaaaaaaaaaa...' has 64 characters, more than 63"},
        /* 11 */ {too_long, "it has 259 characters, more than the 253 a host name may have"},
        /* 12 */ {"host.123", "its last label '123' is all digits, so it is no name, and no IP address either"},
        /* 13 */ {"br\xc3\xa4nch.example", "its label 'br\xc3\xa4nch' holds '\xc3': a host name has only letters, "
                                           "digits, '-' and dots between labels"},
    };
    for (const auto& row : rows) {
        INFO(row.name);
        CHECK(host_name_problem(row.name) == row.problem);
    }
    CHECK(host_name_problem(label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b')) == std::nullopt);
}
