// The http service: HTTP/1.1 GET and HEAD of regular files under the --www root.
//
// Paths: the target is decoded by http::target_to_path (".." segments rejected outright), then opened
// relative to the root's directory fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so neither
// ".." nor a symlink can lead outside the root (the kernel refuses with EXDEV; without openat2 the
// opened file's real path is checked against the root's). Directories serve their index.html.
//
// Memory per connection is bounded: the request head (8 KiB) and one 64 KiB file chunk, allocated
// while a body is being sent. Files are streamed with pread() into that chunk and handed to send();
// the next chunk is read only once the socket has taken the previous one.
//
// Timeouts (HttpServiceOptions, services.hpp), one timer at a time by what the session waits for:
// the request head (header timeout: from accept for the first request, from its first byte for a
// later one; a total, so a head dribbled byte by byte gains nothing), the next request on an idle
// keep-alive connection (keep-alive timeout), and the body (body timeout between two reads of a
// request body, or two writes of a response the peer is slow to take). None of them is reset by
// bytes that make no progress toward the thing awaited.
//
// A reply after which the connection closes while the client may still be sending (a malformed or
// oversized request, an unread body or pipelined input) closes lingering (channel.hpp): the client
// gets the reply and our FIN, not a reset that would destroy the reply.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "tools/tunstackd/services/http_parser.hpp"
#include "tools/tunstackd/services/services.hpp"

namespace tunstackd {

namespace {

constexpr std::size_t kChunk = std::size_t{64} * 1024;
constexpr std::size_t kMaxInput = http::kMaxHeadBytes + 1024;

// Opens `rel` under `dir_fd` without leaving the root; -1 with errno on failure.
int open_beneath(int dir_fd, const std::string& rel, const std::string& root) {
    open_how how{};
    how.flags =
        O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;  // O_NONBLOCK: a FIFO must not block us
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = syscall(SYS_openat2, dir_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
    const int f = openat(dir_fd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (f < 0) return -1;
    const std::string link = "/proc/self/fd/" + std::to_string(f);
    char real[PATH_MAX];
    if (realpath(link.c_str(), real) == nullptr) {
        close(f);
        return -1;
    }
    const std::string r(real);
    if (r != root && r.compare(0, root.size() + 1, root + "/") != 0) {
        close(f);
        errno = EXDEV;
        return -1;
    }
    return f;
}

class HttpSession final : public Session {
public:
    HttpSession(stack::tcp::TcpLayer& tcp, stack::SocketHandle h, ServiceCounters& c,
                const std::string& root, int root_fd, const HttpServiceOptions& options,
                stack::Instant now)
        : Session(tcp, h, c),
          root_(root),
          root_fd_(root_fd),
          options_(options),
          now_(now),
          head_start_(now),
          idle_since_(now),
          recv_progress_(now),
          send_progress_(now) {}
    std::string request_line_;  // for the access log ("-" there when empty: unparsable)
    ~HttpSession() override {
        if (file_ >= 0) close(file_);
    }

    // Idle keep-alive: close now. Otherwise the request being received and the response being sent
    // are finished first; start_response() then says "Connection: close" and closes after it.
    void drain(stack::Instant now) override {
        now_ = now;
        draining_ = true;
        if (!responding_ && in_.empty() && skip_body_ == 0) {
            read_more(now);  // a request that arrived just now is still answered
            if (done_ || !in_.empty()) return on_event(now, 0);
            return finish(now, false);
        }
        if (responding_) close_after_ = true;
        on_event(now, 0);
    }

    void on_event(stack::Instant now, std::uint8_t bits) override {
        now_ = now;
        if ((bits & stack::kEventError) != 0) return finish(now, true);
        for (int guard = 0; guard < 4096 && !done_; ++guard) {
            if (responding_) {
                if (!write_response(now)) return;
                continue;
            }
            if (skip_body_ > 0) {
                const std::size_t take = std::min(skip_body_, in_.size());
                in_.erase(0, take);
                skip_body_ -= take;
                if (skip_body_ == 0) idle_since_ = head_start_ = now;  // the body is over
                if (skip_body_ > 0 && !read_more(now)) return;
                continue;
            }
            const http::ParseResult r = http::parse_request(in_);
            if (r.status == http::ParseStatus::Complete) {
                in_.erase(0, r.request.head_bytes);
                skip_body_ = r.request.content_length;
                recv_progress_ = now;
                respond(r.request);
                continue;
            }
            if (r.status == http::ParseStatus::Bad) {
                ++counters_.requests;
                in_.clear();
                bad_input_ = true;  // the rest of this request is unknown: close lingering
                error_response(r.error_code, r.error, true, false);
                continue;
            }
            if (!read_more(now)) return;
        }
    }

protected:
    stack::Instant timeout_at() const override {
        if (responding_) return send_progress_ + options_.body_timeout;
        if (skip_body_ > 0) return recv_progress_ + options_.body_timeout;
        if (!in_.empty() || served_ == 0) return head_start_ + options_.header_timeout;
        return idle_since_ + options_.keepalive_timeout;
    }

    void on_timeout(stack::Instant now) override {
        now_ = now;
        if (responding_) {
            // The peer takes nothing: our FIN would wait behind the unsent response forever.
            ++counters_.timeout_body;
            return abort(now);
        }
        if (skip_body_ > 0) {
            ++counters_.timeout_body;
        } else if (!in_.empty() || served_ == 0) {
            ++counters_.timeout_header;
        } else {
            ++counters_.timeout_keepalive;
            return finish(now, false);  // an idle keep-alive connection ends normally
        }
        finish(now, true);
    }

private:
    // Reads request bytes (bounded); false when nothing more can be done now (or the session ended).
    bool read_more(stack::Instant now) {
        if (in_.size() >= kMaxInput) return true;  // parse_request will answer 431
        std::array<std::uint8_t, 4096> buf;
        const std::size_t room = std::min(buf.size(), kMaxInput - in_.size());
        const std::size_t n = recv(now, stack::MutBytes(buf.data(), room));
        if (n == 0) {
            if (!done_ && peer_finished()) finish(now, false);
            return false;
        }
        // The first byte of a later request starts its header timer (the first request's runs
        // from accept).
        if (in_.empty() && skip_body_ == 0 && served_ > 0) head_start_ = now;
        recv_progress_ = now;
        in_.append(reinterpret_cast<const char*>(buf.data()), n);
        return true;
    }

    // The response is complete and the connection ends: linger if the client may still be
    // sending (the request was malformed, its body or pipelined input is unread, or more arrived).
    void close_after_reply(stack::Instant now) {
        bool linger = bad_input_ || !in_.empty() || skip_body_ > 0;
        if (!linger) {
            std::array<std::uint8_t, 512> probe;
            linger = recv(now, stack::MutBytes(probe.data(), probe.size())) > 0;
            if (done_) return;
        }
        if (linger) ++counters_.lingering;
        finish(now, false, linger);
    }

    // Sends what it can of the current response; false when blocked (wait for writable).
    bool write_response(stack::Instant now) {
        if (head_off_ < head_.size()) {
            const std::size_t n = send(
                now, stack::Bytes(reinterpret_cast<const std::uint8_t*>(head_.data()) + head_off_,
                                  head_.size() - head_off_));
            if (n > 0) send_progress_ = now;
            head_off_ += n;
            return head_off_ == head_.size() && !done_;
        }
        if (file_ >= 0) {
            if (chunk_head_ < chunk_tail_) {
                const std::size_t n =
                    send(now, stack::Bytes(chunk_.data() + chunk_head_, chunk_tail_ - chunk_head_));
                if (n > 0) send_progress_ = now;
                chunk_head_ += n;
                return chunk_head_ == chunk_tail_ && !done_;
            }
            if (file_off_ < file_end_) {
                if (chunk_.empty()) chunk_.resize(kChunk);
                const std::size_t want = static_cast<std::size_t>(
                    std::min<std::uint64_t>(kChunk, file_end_ - file_off_));
                const ssize_t got =
                    pread(file_, chunk_.data(), want, static_cast<off_t>(file_off_));
                if (got <= 0) {
                    // The file shrank or failed under us: the promised length cannot be met.
                    abort(now);
                    return false;
                }
                chunk_head_ = 0;
                chunk_tail_ = static_cast<std::size_t>(got);
                file_off_ += static_cast<std::uint64_t>(got);
                return true;
            }
            close(file_);
            file_ = -1;
            std::vector<std::uint8_t>().swap(chunk_);  // idle keep-alive connections hold no chunk
        }
        responding_ = false;
        ++served_;
        idle_since_ = head_start_ = recv_progress_ = now;
        if (close_after_) {
            close_after_reply(now);
            return false;
        }
        return true;
    }

    void start_response(int status, std::string_view content_type, std::uint64_t length,
                        bool keep_alive, int version_minor, std::string_view extra = {}) {
        if (counters_.access_log != nullptr) log_access(status, length);
        if (status < 300) {
            ++counters_.status_2xx;
        } else if (status < 500) {
            ++counters_.status_4xx;
        } else {
            ++counters_.status_5xx;
        }
        head_ =
            tools::http1::status_line(status, http::reason_phrase(status)) +
            "Server: tunstackd/" TUNSTACK_VERSION "\r\nContent-Type: " + std::string(content_type) +
            "\r\nContent-Length: " + std::to_string(length) + "\r\n";
        head_ += extra;
        if (draining_) keep_alive = false;  // shutting down: this is the last response
        if (!keep_alive) {
            head_ += "Connection: close\r\n";
        } else if (version_minor == 0) {
            head_ += "Connection: keep-alive\r\n";
        }
        head_ += "\r\n";
        head_off_ = 0;
        close_after_ = !keep_alive;
        responding_ = true;
        send_progress_ = now_;
    }

    void error_response(int status, std::string_view why, bool force_close, bool head_only,
                        int version_minor = 1, std::string_view extra = {}) {
        const std::string body = std::to_string(status) + " " +
                                 std::string(http::reason_phrase(status)) + ": " +
                                 std::string(why) + "\n";
        start_response(status, "text/plain; charset=utf-8", body.size(), !force_close,
                       version_minor, extra);
        if (!head_only) head_ += body;
    }

    // One line per response, the Common Log Format: peer - - [time] "request line" status length.
    void log_access(int status, std::uint64_t length) {
        std::string peer = "-";
        if (auto i = tcp_.info(h_); i.ok()) peer = i->remote.addr.to_string();
        const std::time_t t = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char when[40];
        std::strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
        // Appended piecewise: g++ 12 at -O3 warns (-Wrestrict, a false positive) on long
        // operator+ chains of std::string.
        std::string line = peer;
        line.append(" - - [").append(when).append("] \"");
        if (request_line_.empty()) line += '-';
        for (char c : request_line_) line += (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
        line.append("\" ")
            .append(std::to_string(status))
            .append(" ")
            .append(std::to_string(length));
        (*counters_.access_log)(line);
        request_line_.clear();
    }

    void respond(const http::Request& req) {
        request_line_.assign(req.method).append(" ").append(req.target).append(" HTTP/1.");
        request_line_.append(std::to_string(req.version_minor));
        ++counters_.requests;
        const bool head_only = req.method == "HEAD";
        if (req.method != "GET" && !head_only) {
            return error_response(405, "only GET and HEAD", !req.keep_alive, false,
                                  req.version_minor, "Allow: GET, HEAD\r\n");
        }
        auto path = http::target_to_path(req.target);
        if (!path) {
            return error_response(400, "bad request target", !req.keep_alive, head_only,
                                  req.version_minor);
        }
        std::string rel = path->empty() ? std::string(".") : *path;
        int fd = open_beneath(root_fd_, rel, root_);
        struct stat st {};
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            close(fd);
            rel += "/index.html";
            fd = open_beneath(root_fd_, rel, root_);
        }
        if (fd < 0) {
            const int status = errno == EACCES ? 403 : 404;
            return error_response(status, status == 403 ? "permission denied" : "no such file",
                                  !req.keep_alive, head_only, req.version_minor);
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return error_response(404, "not a regular file", !req.keep_alive, head_only,
                                  req.version_minor);
        }
        start_response(200, http::content_type_for(rel), static_cast<std::uint64_t>(st.st_size),
                       req.keep_alive, req.version_minor);
        if (head_only) {
            close(fd);
            return;
        }
        file_ = fd;
        file_off_ = 0;
        file_end_ = static_cast<std::uint64_t>(st.st_size);
        chunk_head_ = chunk_tail_ = 0;
    }

    const std::string& root_;
    int root_fd_;
    HttpServiceOptions options_;
    stack::Instant now_;            // of the current event
    stack::Instant head_start_;     // header timer: accept, or the first byte of a later request
    stack::Instant idle_since_;     // keep-alive timer: the last response completed
    stack::Instant recv_progress_;  // body timer (request body): the last read
    stack::Instant send_progress_;  // body timer (response): the last write taken
    std::uint64_t served_ = 0;      // responses completed
    bool bad_input_ = false;
    std::string in_;
    std::size_t skip_body_ = 0;
    bool responding_ = false;
    bool close_after_ = false;
    std::string head_;
    std::size_t head_off_ = 0;
    int file_ = -1;
    std::uint64_t file_off_ = 0, file_end_ = 0;
    std::vector<std::uint8_t> chunk_;
    std::size_t chunk_head_ = 0, chunk_tail_ = 0;
};

}  // namespace

std::unique_ptr<Session> make_http(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                   ServiceCounters& c, const std::string& root, int root_fd,
                                   const HttpServiceOptions& options, stack::Instant now) {
    return std::make_unique<HttpSession>(tcp, h, c, root, root_fd, options, now);
}

}  // namespace tunstackd
