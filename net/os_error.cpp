#include "net/os_error.hpp"

#include <sys/resource.h>

#include <fstream>

namespace mesh::net {

namespace {
class OsCategory final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "os"; }

    [[nodiscard]] std::string message(int error) const override
    {
        if (error == EMFILE)
            return "too many open files (limit " + std::to_string(open_files_limit()) + ")";
        if (error == ENFILE) {
            std::uint64_t file_max = 0;
            std::ifstream("/proc/sys/fs/file-max") >> file_max;
            return "too many open files in the system (fs.file-max " + std::to_string(file_max) + ")";
        }
        return std::generic_category().message(error);
    }

    [[nodiscard]] std::error_condition default_error_condition(int error) const noexcept override
    {
        return {error, std::generic_category()};
    }
};
} // namespace

const std::error_category& os_category() noexcept
{
    static const OsCategory category;
    return category;
}

void throw_os_error(const std::string& what, int error)
{
    throw std::system_error(error, os_category(), what);
}

std::uint64_t open_files_limit() noexcept
{
    rlimit limit{};
    return ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 0;
}

} // namespace mesh::net
