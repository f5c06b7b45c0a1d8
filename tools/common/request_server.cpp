#include "tools/common/request_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tools {

struct RequestServer::Client {
    int fd = -1;
    std::string in;
    std::string out;
    std::size_t sent = 0;
    bool replying = false;
    drivers::TimerId timer = 0;
};

namespace {
std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }
}  // namespace

stack::Result<std::unique_ptr<RequestServer>, std::string> RequestServer::listen_unix(
    drivers::EventLoop& loop, const std::string& path, std::string terminator,
    std::size_t max_request, Handler handler) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof sa.sun_path) {
        return stack::Err(std::string("--control " + path + ": path too long (at most " +
                                      std::to_string(sizeof sa.sun_path - 1) + " bytes)"));
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return stack::Err(errno_text("--control " + path + ": socket"));
    // The socket is created 0600 (umask), so no other user can connect between bind and chmod.
    const mode_t old = umask(0177);
    int rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    if (rc != 0 && errno == EADDRINUSE) {
        struct stat st {};
        if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
            const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const bool live =
                probe >= 0 && connect(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
            if (probe >= 0) ::close(probe);
            if (live) {
                umask(old);
                ::close(fd);
                return stack::Err(std::string(
                    "--control " + path + ": already in use (another tunstackd answers on it)"));
            }
            unlink(path.c_str());  // stale
            rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        } else {
            errno = EEXIST;
        }
    }
    umask(old);
    if (rc != 0) {
        const std::string msg = errno_text("--control " + path);
        ::close(fd);
        return stack::Err(msg);
    }
    if (chmod(path.c_str(), 0600) != 0 || listen(fd, 16) != 0) {
        const std::string msg = errno_text("--control " + path);
        ::close(fd);
        unlink(path.c_str());
        return stack::Err(msg);
    }
    std::unique_ptr<RequestServer> s(
        new RequestServer(loop, fd, path, std::move(terminator), max_request, std::move(handler)));
    RequestServer* self = s.get();
    auto added =
        loop.add_fd(fd, drivers::Interest::Read, [self](drivers::IoEvents) { self->on_accept(); });
    if (!added) return stack::Err(std::string(added.error().message));
    return s;
}

stack::Result<std::unique_ptr<RequestServer>, std::string> RequestServer::listen_tcp(
    drivers::EventLoop& loop, stack::wire::Ipv4Address addr, std::uint16_t port,
    std::string terminator, std::size_t max_request, Handler handler) {
    const std::string label = "--metrics " + addr.to_string() + ":" + std::to_string(port);
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return stack::Err(errno_text(label + ": socket"));
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(addr.value);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 16) != 0) {
        const std::string msg = errno_text(label);
        ::close(fd);
        return stack::Err(msg);
    }
    std::unique_ptr<RequestServer> s(
        new RequestServer(loop, fd, "", std::move(terminator), max_request, std::move(handler)));
    RequestServer* self = s.get();
    auto added =
        loop.add_fd(fd, drivers::Interest::Read, [self](drivers::IoEvents) { self->on_accept(); });
    if (!added) return stack::Err(std::string(added.error().message));
    return s;
}

RequestServer::RequestServer(drivers::EventLoop& loop, int fd, std::string path,
                             std::string terminator, std::size_t max_request, Handler handler)
    : loop_(loop),
      fd_(fd),
      path_(std::move(path)),
      terminator_(std::move(terminator)),
      max_request_(max_request),
      handler_(std::move(handler)) {}

RequestServer::~RequestServer() {
    while (!clients_.empty()) drop(*clients_.back());
    close_listener();
}

void RequestServer::close_listener() {
    if (fd_ < 0) return;
    loop_.remove_fd(fd_);
    ::close(fd_);
    fd_ = -1;
    if (!path_.empty()) unlink(path_.c_str());
}

std::size_t RequestServer::clients() const { return clients_.size(); }

void RequestServer::on_accept() {
    for (int i = 0; i < 16; ++i) {
        const int cfd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) return;  // EAGAIN, or a client that already went away
        if (clients_.size() >= kMaxClients) {
            ::close(cfd);
            continue;
        }
        auto c = std::make_unique<Client>();
        c->fd = cfd;
        Client* cp = c.get();
        clients_.push_back(std::move(c));
        auto added = loop_.add_fd(cfd, drivers::Interest::Read,
                                  [this, cp](drivers::IoEvents ev) { on_client(*cp, ev); });
        if (!added) {
            drop(*cp);
            continue;
        }
        cp->timer =
            loop_.add_timer(drivers::EventLoop::now() + stack::Duration::millis(kClientTimeoutMs),
                            [this, cp](stack::Instant) {
                                cp->timer = 0;
                                drop(*cp);
                            });
    }
}

void RequestServer::on_client(Client& c, drivers::IoEvents ev) {
    if (!c.replying) {
        char buf[1024];
        while (true) {
            const ssize_t n = read(c.fd, buf, sizeof buf);
            if (n > 0) {
                c.in.append(buf, static_cast<std::size_t>(n));
                if (c.in.find(terminator_) != std::string::npos || c.in.size() >= max_request_) {
                    break;
                }
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (ev.error) return drop(c);
                return;  // wait for more
            }
            // EOF or error before a complete request: answer what we have (the handler rejects it).
            if (c.in.empty()) return drop(c);
            break;
        }
        c.out = handler_(c.in);
        c.replying = true;
        (void)loop_.set_interest(c.fd, drivers::Interest::Write);
    }
    while (c.sent < c.out.size()) {
        const ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            return drop(c);
        }
        c.sent += static_cast<std::size_t>(n);
    }
    drop(c);
}

void RequestServer::drop(Client& c) {
    if (c.timer != 0) loop_.cancel_timer(c.timer);
    loop_.remove_fd(c.fd);
    ::close(c.fd);
    auto it = std::find_if(clients_.begin(), clients_.end(),
                           [&c](const std::unique_ptr<Client>& p) { return p.get() == &c; });
    if (it != clients_.end()) clients_.erase(it);  // destroys c: return right after
}

}  // namespace tools
