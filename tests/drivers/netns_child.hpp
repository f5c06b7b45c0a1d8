// Test support for driver tests against the real kernel: run a body in a forked child inside a fresh,
// anonymous network namespace (unshare(CLONE_NEWNET)); the namespace, its interfaces and routes vanish
// when the child exits and the host's are never touched. The child reports through its exit status:
// each step fails with its own code so that a failure says where it happened.
#pragma once

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace netns_child {

[[noreturn]] inline void fail(int code, const std::string& why) {
    std::fprintf(stderr, "tun child: step %d failed: %s\n", code, why.c_str());
    std::fflush(stderr);
    ::_exit(code);
}

// Runs `body` in a forked child inside a fresh network namespace; returns the child's exit code
// (128 + signal if it died of one).
template <typename F>
int run_in_netns(F body) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        ::alarm(20);  // a hung child dies of SIGALRM instead of hanging the test run
        if (::unshare(CLONE_NEWNET) != 0) fail(2, std::string("unshare: ") + std::strerror(errno));
        body();
        ::_exit(0);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

}  // namespace netns_child
