// Least privilege for tunstackd: after the TUN device is open and configured (and every file and
// socket the daemon needs is open), drop_privileges(user) turns the process into `user` for good:
//
//   1. look the user up (getpwnam): uid, primary gid;
//   2. empty the capability bounding set (PR_CAPBSET_DROP for every capability still in it; needs
//      CAP_SETPCAP, which root has and the systemd unit keeps for this) and the ambient set;
//   3. setgroups to the primary group only, setresgid(gid, gid, gid), setresuid(uid, uid, uid)
//      (saved IDs too, so root cannot be regained);
//   4. clear the permitted, effective and inheritable sets (libcap: cap_clear + cap_set_proc; the
//      kernel already cleared them on the uid change, this makes it explicit and checked);
//   5. PR_SET_NO_NEW_PRIVS, so no exec can gain privileges again (setuid binaries, file caps);
//   6. verify: setuid(0) must now fail, and every capability set must read back empty.
//
// The open TUN fd keeps working without CAP_NET_ADMIN (the kernel checks privileges at TUNSETIFF,
// not on read/write), and the device, not persistent, is removed by the kernel when the fd is
// closed at exit, whoever closes it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "stack/base/result.hpp"

namespace tunstackd {

// Error: one line naming the step that failed ("--user nobody: setresuid: Operation not
// permitted").
stack::Result<void, std::string> drop_privileges(const std::string& user);

// The uid of `user`, nullopt if there is no such user (for the command line, before anything is
// created: an unknown user and a uid-0 user are both usage errors).
std::optional<uid_t> user_uid(const std::string& user);

}  // namespace tunstackd
