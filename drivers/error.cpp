#include "drivers/error.hpp"

#include <cerrno>
#include <cstring>

namespace drivers {

static_assert(EAGAIN == 11, "would_block_error() hard-codes Linux's EAGAIN");

Error Error::system(int err, std::string_view what) {
    ErrorKind kind = ErrorKind::System;
    if (err == EPERM || err == EACCES) kind = ErrorKind::Permission;
    if (err == EEXIST) kind = ErrorKind::Exists;
    if (err == EAGAIN) kind = ErrorKind::WouldBlock;
    std::string msg(what);
    msg += ": ";
    const char* desc = strerrordesc_np(err);
    msg += desc != nullptr ? desc : "unknown error";
    return Error{kind, err, std::move(msg)};
}

Error Error::invalid(std::string message) {
    return Error{ErrorKind::Invalid, 0, std::move(message)};
}

}  // namespace drivers
