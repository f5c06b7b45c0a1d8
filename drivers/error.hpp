// drivers::Error: the one error type of the drivers layer (no exceptions here).
//
// An Error carries a kind (so callers can branch without parsing text), the errno that caused it (0
// when the problem is not a system call's) and a one-line message that names the problem and the
// object involved ("device tun0 already exists", "open /tmp/x.pcap: No such file or directory").
// WouldBlock errors carry no message, so the hot "nothing to read" path never allocates.
#pragma once

#include <string>
#include <string_view>

namespace drivers {

enum class ErrorKind {
    System,       // a system call failed; sys_errno says why
    WouldBlock,   // non-blocking I/O has nothing to do right now (EAGAIN)
    Exists,       // the object to create already exists
    Permission,   // EPERM/EACCES: the process lacks a capability
    Invalid,      // bad argument or configuration (parse errors, names too long, ...)
    Unsupported,  // a feature that is not implemented (yet)
};

struct Error {
    ErrorKind kind = ErrorKind::System;
    int sys_errno = 0;
    std::string message;

    bool would_block() const { return kind == ErrorKind::WouldBlock; }
    const std::string& to_string() const { return message; }

    // "<what>: <strerror(err)>", kind derived from err (EPERM/EACCES → Permission, EEXIST → Exists,
    // EAGAIN → WouldBlock, else System).
    static Error system(int err, std::string_view what);
    static Error invalid(std::string message);
    static Error would_block_error() { return Error{ErrorKind::WouldBlock, 11 /* EAGAIN */, {}}; }
};

}  // namespace drivers
