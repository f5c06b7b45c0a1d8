#include "tools/tunstackd/services/services.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace tunstackd {

namespace {
constexpr std::uint32_t kBacklog = 1024;
}

std::string_view to_string(ServiceKind kind) {
    switch (kind) {
        case ServiceKind::Echo: return "echo";
        case ServiceKind::Discard: return "discard";
        case ServiceKind::Chargen: return "chargen";
        case ServiceKind::Http: return "http";
    }
    return "?";
}

std::optional<ServiceSpec> parse_service_spec(std::string_view text, std::string& error) {
    const std::size_t colon = text.find(':');
    const std::string_view name = text.substr(0, colon);
    ServiceSpec spec;
    if (name == "echo") {
        spec.kind = ServiceKind::Echo;
    } else if (name == "discard") {
        spec.kind = ServiceKind::Discard;
    } else if (name == "chargen") {
        spec.kind = ServiceKind::Chargen;
    } else if (name == "http") {
        spec.kind = ServiceKind::Http;
    } else {
        error = "--serve '" + std::string(text) +
                "': unknown service (expected echo:PORT, discard:PORT, chargen:PORT or http:PORT)";
        return std::nullopt;
    }
    const std::string_view port = colon == std::string_view::npos ? "" : text.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value < 1 ||
        value > 65535) {
        error = "--serve '" + std::string(text) + "': expected " + std::string(name) +
                ":PORT with PORT in 1..65535";
        return std::nullopt;
    }
    spec.port = static_cast<std::uint16_t>(value);
    return spec;
}

// ---- Session ---------------------------------------------------------------------------------------

void Session::finish(stack::Instant now, bool error) {
    if (done_) return;
    (void)tcp_.close(now, h_);
    done_ = true;
    if (error) {
        ++counters_.errors;
    } else {
        ++counters_.closed;
    }
}

std::size_t Session::recv(stack::Instant now, stack::MutBytes out) {
    if (done_) return 0;
    auto n = tcp_.recv(now, h_, out);
    if (!n) {
        finish(now, true);
        return 0;
    }
    counters_.bytes_in += *n;
    return *n;
}

std::size_t Session::send(stack::Instant now, stack::Bytes data) {
    if (done_ || data.empty()) return 0;
    auto n = tcp_.send(now, h_, data);
    if (!n) {
        finish(now, true);
        return 0;
    }
    counters_.bytes_out += *n;
    return *n;
}

void Session::drain(stack::Instant now) {
    draining_ = true;
    finish(now, false);
}

void Session::abort(stack::Instant now) {
    if (done_) return;
    (void)tcp_.abort(now, h_);
    done_ = true;
    ++counters_.errors;
}

bool Session::peer_finished() const { return tcp_.eof(h_).value_or(true); }

namespace {

bool failed(std::uint8_t bits) { return (bits & stack::kEventError) != 0; }

// RFC 862: everything received is sent back. Reads stop while the echo cannot be sent (the
// peer's window then closes), and the FIN is echoed once all data has been.
class EchoSession final : public Session {
public:
    using Session::Session;
    void drain(stack::Instant now) override {
        draining_ = true;
        on_event(now, 0);
    }
    void on_event(stack::Instant now, std::uint8_t bits) override {
        if (failed(bits)) return finish(now, true);
        for (int guard = 0; guard < 1024 && !done_; ++guard) {
            if (head_ < tail_) {
                const std::size_t n = send(now, stack::Bytes(buf_.data() + head_, tail_ - head_));
                head_ += n;
                if (head_ < tail_) return;  // wait for kEventWritable
                continue;
            }
            head_ = tail_ = 0;
            if (draining_) return finish(now, false);  // everything read was echoed
            const std::size_t n = recv(now, stack::MutBytes(buf_.data(), buf_.size()));
            if (n == 0) {
                if (!done_ && peer_finished()) finish(now, false);
                return;
            }
            tail_ = n;
        }
    }

private:
    std::array<std::uint8_t, 65536> buf_{};
    std::size_t head_ = 0, tail_ = 0;
};

}  // namespace

namespace {

class Drainer : public Session {
public:
    using Session::Session;
    void drain_input(stack::Instant now) {
        for (int guard = 0; guard < 4096 && !done_; ++guard) {
            if (recv(now, stack::MutBytes(scratch_.data(), scratch_.size())) == 0) return;
        }
    }

private:
    std::array<std::uint8_t, 16384> scratch_{};  // write-only: received bytes land here and are dropped
};

// RFC 863: everything received is thrown away; the connection ends when the peer's does.

class DiscardImpl final : public Drainer {
public:
    using Drainer::Drainer;
    void drain(stack::Instant now) override {
        draining_ = true;
        drain_input(now);
        finish(now, false);
    }
    void on_event(stack::Instant now, std::uint8_t bits) override {
        if (failed(bits)) return finish(now, true);
        drain_input(now);
        if (!done_ && peer_finished()) finish(now, false);
    }
};

// RFC 864: lines of 72 printable ASCII characters, each line starting one character further along
// the 95-character cycle ' '..'~', ended by CR LF. Sent as fast as the peer accepts: every event
// fills the send buffer. Anything received is discarded; the peer's FIN ends the session.
class ChargenImpl final : public Drainer {
public:
    static constexpr std::size_t kLine = 74, kCycle = 95, kPattern = kLine * kCycle;
    ChargenImpl(stack::tcp::TcpLayer& tcp, stack::SocketHandle h, ServiceCounters& c)
        : Drainer(tcp, h, c) {
        for (std::size_t line = 0; line < kCycle; ++line) {
            for (std::size_t i = 0; i < 72; ++i) {
                pattern_[line * kLine + i] = static_cast<std::uint8_t>(' ' + (line + i) % kCycle);
            }
            pattern_[line * kLine + 72] = '\r';
            pattern_[line * kLine + 73] = '\n';
        }
        // A second copy lets every send take a long contiguous run from any offset.
        std::copy(pattern_.begin(), pattern_.begin() + kPattern, pattern_.begin() + kPattern);
    }
    void drain(stack::Instant now) override {
        draining_ = true;
        drain_input(now);
        finish(now, false);
    }
    void on_event(stack::Instant now, std::uint8_t bits) override {
        if (failed(bits)) return finish(now, true);
        drain_input(now);
        if (!done_ && peer_finished()) return finish(now, false);
        for (int guard = 0; guard < 4096 && !done_; ++guard) {
            const std::size_t n = send(now, stack::Bytes(pattern_.data() + offset_, kPattern));
            if (n == 0) return;
            offset_ = (offset_ + n) % kPattern;
        }
    }

private:
    std::array<std::uint8_t, 2 * kPattern> pattern_{};
    std::size_t offset_ = 0;
};

}  // namespace

std::unique_ptr<Session> make_echo(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                   ServiceCounters& c) {
    return std::make_unique<EchoSession>(tcp, h, c);
}
std::unique_ptr<Session> make_discard(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                      ServiceCounters& c) {
    return std::make_unique<DiscardImpl>(tcp, h, c);
}
std::unique_ptr<Session> make_chargen(stack::tcp::TcpLayer& tcp, stack::SocketHandle h,
                                      ServiceCounters& c) {
    return std::make_unique<ChargenImpl>(tcp, h, c);
}

// ---- ServiceHost -----------------------------------------------------------------------------------

ServiceHost::ServiceHost(stack::tcp::TcpLayer& tcp, std::string www_root, int www_fd)
    : tcp_(tcp), www_root_(std::move(www_root)), www_fd_(www_fd) {}

ServiceHost::~ServiceHost() = default;

stack::Result<void, std::string> ServiceHost::start(const std::vector<ServiceSpec>& specs) {
    for (const ServiceSpec& spec : specs) {
        auto h = tcp_.listen(spec.port, kBacklog);
        const std::string label = std::string(to_string(spec.kind)) + ":" + std::to_string(spec.port);
        if (!h) {
            return stack::Err(std::string("--serve " + label + ": cannot listen: " +
                                          std::string(stack::to_string(h.error()))));
        }
        auto l = std::make_unique<Listener>();
        l->spec = spec;
        l->handle = *h;
        by_listener_[key(*h)] = l.get();
        listeners_.push_back(std::move(l));
    }
    return stack::Ok{};
}

std::unique_ptr<Session> ServiceHost::make_session(Listener& l, stack::SocketHandle h) {
    switch (l.spec.kind) {
        case ServiceKind::Echo: return make_echo(tcp_, h, l.counters);
        case ServiceKind::Discard: return make_discard(tcp_, h, l.counters);
        case ServiceKind::Chargen: return make_chargen(tcp_, h, l.counters);
        case ServiceKind::Http: return make_http(tcp_, h, l.counters, www_root_, www_fd_);
    }
    return nullptr;
}

void ServiceHost::settle(std::uint64_t k) {
    auto it = sessions_.find(k);
    if (it == sessions_.end() || !it->second->done()) return;
    Listener* owner = session_owner_[k];
    if (owner) --owner->counters.active;
    session_owner_.erase(k);
    sessions_.erase(it);
}

void ServiceHost::drain(stack::Instant now) {
    if (draining_) return;
    handle_events(now);  // take connections whose handshake already completed: they are served
    draining_ = true;
    for (auto& l : listeners_) {
        if (l->handle.valid()) (void)tcp_.close(now, l->handle);
        by_listener_.erase(key(l->handle));
        l->handle = stack::SocketHandle{};
    }
    std::vector<std::uint64_t> keys;
    keys.reserve(sessions_.size());
    for (auto& [k, s] : sessions_) keys.push_back(k);
    for (std::uint64_t k : keys) {
        auto it = sessions_.find(k);
        if (it == sessions_.end()) continue;
        it->second->drain(now);
        settle(k);
    }
}

std::size_t ServiceHost::abort_all(stack::Instant now) {
    std::size_t n = 0;
    for (auto& [k, s] : sessions_) {
        if (s->done()) continue;
        s->abort(now);
        ++n;
    }
    std::vector<std::uint64_t> keys;
    for (auto& [k, s] : sessions_) keys.push_back(k);
    for (std::uint64_t k : keys) settle(k);
    return n;
}

bool ServiceHost::handle_events(stack::Instant now) {
    bool any = false;
    stack::SocketEvent ev;
    auto settle = [&](std::uint64_t k, Session&) { this->settle(k); };
    while (tcp_.next_event(ev)) {
        any = true;
        const std::uint64_t k = key(ev.handle);
        if (auto it = by_listener_.find(k); it != by_listener_.end()) {
            Listener& l = *it->second;
            while (true) {
                auto h = tcp_.accept(l.handle);
                if (!h) break;
                ++l.counters.accepted;
                ++l.counters.active;
                const std::uint64_t sk = key(*h);
                auto session = make_session(l, *h);
                Session& s = *session;
                sessions_[sk] = std::move(session);
                session_owner_[sk] = &l;
                s.on_event(now, stack::kEventConnected | stack::kEventReadable |
                                    stack::kEventWritable);
                settle(sk, s);
            }
            continue;
        }
        if (auto it = sessions_.find(k); it != sessions_.end()) {
            Session& s = *it->second;
            s.on_event(now, ev.bits);
            settle(k, s);
        }
    }
    return any;
}

void ServiceHost::append_stats(std::string& out) const {
    for (const auto& l : listeners_) {
        const std::string p = "stat svc." + std::string(to_string(l->spec.kind)) + "." +
                              std::to_string(l->spec.port) + ".";
        auto line = [&](const char* name, std::uint64_t v) {
            out += p;
            out += name;
            out += ' ';
            out += std::to_string(v);
            out += '\n';
        };
        const ServiceCounters& c = l->counters;
        line("accepted", c.accepted);
        line("active", c.active);
        line("closed", c.closed);
        line("errors", c.errors);
        line("bytes_in", c.bytes_in);
        line("bytes_out", c.bytes_out);
        if (l->spec.kind == ServiceKind::Http) {
            line("requests", c.requests);
            line("status_2xx", c.status_2xx);
            line("status_4xx", c.status_4xx);
            line("status_5xx", c.status_5xx);
        }
    }
}

}  // namespace tunstackd
