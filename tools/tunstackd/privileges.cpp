#include "tools/tunstackd/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tunstackd {

namespace {
std::string fail(const std::string& user, const std::string& step) {
    return "--user " + user + ": " + step + ": " + std::strerror(errno);
}

bool lookup(const std::string& user, uid_t& uid, gid_t& gid) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
        return false;
    }
    uid = pw.pw_uid;
    gid = pw.pw_gid;
    return true;
}
}  // namespace

std::optional<uid_t> user_uid(const std::string& user) {
    uid_t uid = 0;
    gid_t gid = 0;
    if (!lookup(user, uid, gid)) return std::nullopt;
    return uid;
}

stack::Result<void, std::string> drop_privileges(const std::string& user) {
    uid_t uid = 0;
    gid_t gid = 0;
    if (!lookup(user, uid, gid)) {
        return stack::Err(std::string("--user " + user + ": no such user"));
    }
    // The command line already refuses a uid-0 user (exit 2); checked again since the account
    // database may have changed between the two lookups.
    if (uid == 0) return stack::Err(std::string("--user " + user + ": is root (uid 0)"));

    // Bounding set first: dropping from it needs CAP_SETPCAP, which goes with the uid change.
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        const int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in < 0) break;  // a capability this kernel does not know: past the last one
        if (in == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            return stack::Err(fail(user, "dropping " + std::string(cap_to_name(cap)) +
                                             " from the bounding set (needs CAP_SETPCAP)"));
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        return stack::Err(fail(user, "clearing the ambient capabilities"));
    }
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return stack::Err(fail(user, "PR_SET_KEEPCAPS"));
    if (setgroups(1, &gid) != 0) return stack::Err(fail(user, "setgroups"));
    if (setresgid(gid, gid, gid) != 0) return stack::Err(fail(user, "setresgid"));
    if (setresuid(uid, uid, uid) != 0) return stack::Err(fail(user, "setresuid"));

    cap_t caps = cap_init();  // an empty set
    if (caps == nullptr) return stack::Err(fail(user, "cap_init"));
    const bool cleared = cap_clear(caps) == 0 && cap_set_proc(caps) == 0;
    cap_free(caps);
    if (!cleared) return stack::Err(fail(user, "clearing the capability sets"));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return stack::Err(fail(user, "PR_SET_NO_NEW_PRIVS"));
    }

    // Verify, rather than trust, that nothing is left.
    if (setuid(0) == 0 || seteuid(0) == 0) {
        return stack::Err(std::string("--user " + user + ": could regain root after dropping"));
    }
    uid_t r, e, s;
    gid_t rg, eg, sg;
    if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid ||
        getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid) {
        return stack::Err(std::string("--user " + user + ": user or group IDs did not all change"));
    }
    cap_t now = cap_get_proc();
    cap_t empty = cap_init();
    const bool none = now != nullptr && empty != nullptr && cap_compare(now, empty) == 0;
    if (now != nullptr) cap_free(now);
    if (empty != nullptr) cap_free(empty);
    if (!none) {
        return stack::Err(std::string("--user " + user + ": capabilities remain after dropping"));
    }
    return stack::Ok{};
}

}  // namespace tunstackd
