#pragma once
// Failed system calls as std::system_error whose message names the cause an
// operator of a large hub meets first: EMFILE reads "too many open files
// (limit 1024)", with the RLIMIT_NOFILE soft limit, and ENFILE names the
// system-wide fs.file-max, instead of strerror's bare "Too many open files".
// Codes compare equal to std::generic_category()'s (std::errc::too_many_files_open).

#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>

namespace mesh::net {

[[nodiscard]] const std::error_category& os_category() noexcept;

// Throws std::system_error(error, os_category(), what): "WHAT: too many open files (limit 1024)".
[[noreturn]] void throw_os_error(const std::string& what, int error = errno);

// The RLIMIT_NOFILE soft limit of this process now (0 when unknown).
[[nodiscard]] std::uint64_t open_files_limit() noexcept;

} // namespace mesh::net
